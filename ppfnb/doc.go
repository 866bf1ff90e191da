// Package ppfnb holds what a notebook cell (or the ppf command) calls: load
// a model by name, generate, measure perplexity, and, as the project grows,
// prune, collect measured policies, train the predictor and the agent, and
// plot. Its exported API has no generics, so the yaegi interpreter behind
// the Jupyter kernel can call all of it; the heavy work runs compiled in
// package native.
package ppfnb
