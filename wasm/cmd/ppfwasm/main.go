//go:build js && wasm

// Command ppfwasm is the predictor's browser build: it puts the API of
// package wasm/internal/api on globalThis.ppf (or on globalThis[name]
// when started with one argument, name, so that several notebook widgets
// can share a window) and serves calls until the page goes away.
//
// The loader in ppfnb/web/ppf.js (ppfLoad) creates that object first, with
// a ready promise and a _ready function that this program calls; started
// any other way, the program creates the object itself, with a resolved
// ready promise. Build it with go generate ./wasm/... (see package wasm).
package main

import (
	"os"
	"syscall/js"

	"github.com/ppfkit/ppf/wasm/internal/api"
)

func main() {
	name := "ppf"
	if len(os.Args) > 1 && os.Args[1] != "" {
		name = os.Args[1]
	}
	g := js.Global()
	obj := g.Get(name)
	if obj.Type() != js.TypeObject {
		obj = g.Get("Object").New()
		obj.Set("ready", g.Get("Promise").Call("resolve", obj))
		g.Set(name, obj)
	}
	api.Install(obj, &api.Session{})
	if ready := obj.Get("_ready"); ready.Type() == js.TypeFunction {
		ready.Invoke(obj)
	}
	select {} // calls arrive as JavaScript callbacks
}
