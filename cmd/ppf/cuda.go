//go:build cuda

package main

// Built with -tags cuda, the program has the GPU backends (cuda,
// cuda-bf16, cuda-bf16-cublas) as well as the CPU engine: see native/cuda.
import _ "github.com/ppfkit/ppf/native/cuda"
