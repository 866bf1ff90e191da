// Package prune removes attention heads, MLP channels and whole layers
// from a native.Model: it decides which units to remove inside each layer,
// removes them, and provides the hand-designed allocation methods that
// PPF's learned policies must beat (uniform, Wanda-sp, OWL, FLAP, ShortGPT
// and a random floor).
//
// # Units and ratios
//
// The attention pruning unit is the KV group: one key/value head with the
// query heads that read it (with grouped-query attention, removing a key/value
// head leaves its query heads nothing to attend with, and removing a query
// head alone saves no key/value work). stories260K and babyllama-tok105
// have 8 query heads over 4 key/value heads, so 4 groups of 2 heads per
// layer. The MLP unit is one SwiGLU channel: a row of gate and up and a
// column of down. A whole layer can also be dropped (ShortGPT).
//
// The global pruning ratio is the fraction of prunable block parameters
// removed: q, k, v, o, gate, up and down of every layer (Shape.Params).
// Embeddings, the classifier, norms and biases are excluded. A KV group
// costs (2·h+2)·HeadDim·Dim parameters for h query heads per group, a
// channel 3·Dim. Every method except ShortGPT meets the requested ratio
// within one channel's worth of parameters; ShortGPT drops
// round(ratio × layers) layers (halves up, at least one layer kept), so
// with 5 layers it achieves multiples of 0.2.
//
// # Policies and plans
//
// A Policy says how many KV groups and channels each layer keeps and
// whether it is dropped, in the vocabulary the predictor shares
// (native/policy: the same fields and JSON); its per-layer ratios (Ratios,
// FromRatios) are its features for a predictor.
// Every kept layer keeps at least Shape.MinGroups groups and
// Shape.MinChannels channels (1 and 1 by default). A Plan adds which units
// each layer keeps and the compensation biases. NewPlan makes one with a
// method; PlanFor turns any policy (from PPF's agent, say) into one.
//
// # Calibration and evaluation text
//
// Calibrate runs the dense model once over calibration tokens and gathers,
// through State.Observe, per layer: the mean, variance and norm of every
// input feature of q/k/v, o, gate/up and down, and the cosine similarity of
// the block's input and output. Calibration and evaluation text never
// overlap. The default split (the ppf command and docs/pruning.md's table):
// TinyStories-valid-excerpt.txt is tokenized once with BOS; its first
// DefaultCalibTokens (4096) tokens calibrate, in windows of
// DefaultCalibSeqLen (128); the remaining tokens are the held-out
// TinyStories evaluation text (Split). WikiText-2 is used for evaluation
// only.
//
// # Scores within a layer
//
// See ComputeScores: magnitude (Σ|w|), Wanda-sp (Σ|w|·‖x‖ over all the
// unit's weights, each weight times the norm of the input feature it
// multiplies) and FLAP's fluctuation (Var(x_c)·‖W[:,c]‖² over the unit's
// columns of o or down).
//
// # Applying a plan
//
// Apply masks a loaded model in place (Layer.HeadMask, Layer.ChannelMask,
// compensation added to Layer.AttnBias and Layer.MLPBias) and Masked.Reset
// undoes it: cheap, for evaluating many plans on one model. Slice builds a
// smaller model whose layers have their own head counts and MLP widths; it
// really runs faster, and native.SaveHF writes it with its per-layer sizes
// (config.json's ppf_layers), which native.LoadHF reads back. Both give the
// same logits. An evaluator of another backend follows Apply and Reset
// after its Sync.
//
// The exported API has no generics, so notebook cells interpreted by
// yaegi can call it.
package prune
