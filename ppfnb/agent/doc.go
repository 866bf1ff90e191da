// Package agent is PPF's ratio-conditioned agent: given a global pruning
// ratio, it returns a full layer-wise policy (the units each layer keeps)
// that removes exactly that ratio, within half a unit, at once: dynamic
// pruning, where the budget moves at run time. It learns by reinforcement
// against a Scorer, normally the trained performance predictor
// (package predictor), and, like it, builds for GOOS=js GOARCH=wasm.
//
// # Policy and projection
//
// The network maps the ratio (scaled onto [-1, 1] over the trained
// range, as u and 2u²-1) through one tanh layer of 32 units to one logit
// per unit type: z[2l] for layer l's attention, z[2l+1] for its MLP,
// bounded by ±MaxLogit (3). Unit type j gets a share of the removal budget
// e^z[j] times its parameters (so all-zero logits, where training starts,
// are the uniform policy). predictor.Allocator projects the shares onto
// the budget: water-filling under each layer's minimums, then an integer
// rounding that removes exactly the ratio within half a unit's cost. The
// network never has to learn the constraint; every output is feasible.
//
// # Training: PPO with group-relative advantages
//
// The policy is Gaussian over the logits: mean from the network, one
// learned log standard deviation per logit (from 0.5, never below 0.05).
// Each update draws RatiosPerStep ratios (one per equal slice of the
// range) and SamplesPerRatio logit vectors at each; each is projected,
// scored, and its reward is -log-perplexity. A pruning episode is one
// step (ratio in, policy out, score back), and rewards differ far more
// between ratios than between policies of one ratio, so the baseline is
// per ratio: the advantage is the reward's standard score within its
// group of samples at the same ratio (as in GRPO). That needs no critic
// network, costs only predictor calls (microseconds each), and makes the
// advantages comparable across ratios. The update is PPO's clipped
// objective (ε 0.2, 4 passes per batch, Adam at 0.003 decaying to a
// tenth by cosine): the clipping keeps each update near the policy that
// sampled the batch, which plain REINFORCE does not, and PPO is the
// family the paper uses. Evolution strategies on the weights would also
// work but spend their samples on all parameters at once instead of on
// the per-logit noise the policy gradient exploits. Every EvalEvery (10)
// updates the agent's mean policy is scored on a fixed grid of 8 ratios
// against uniform, and the best weights so far are the ones kept.
//
// Training is single-threaded and seeded: the same Config, Space and
// (deterministic) scorer give the same agent, bit for bit. Curve returns
// the training curve as data: per update the mean reward, the mean gain
// of the agent's policy over uniform, the exploration deviation, the grid
// gain when measured, and the same per 0.1-wide ratio bucket.
//
// # Measured
//
// On the synthetic task of package predictor (TestPipeline,
// PPF_AGENT_PIPELINE=1; 2-core shared development machine), gains in
// log-perplexity over the uniform policy, mean over the ratios 0.1, 0.2,
// ..., 0.7, scored by the truth:
//
//	layers  agent trained on          mean gain  training
//	5       the truth                 0.561      0.3 s
//	5       predictor, 500 records    0.538      0.4 s
//	5       predictor, 1,500 records  0.549      0.4 s
//	12      the truth                 0.276      0.7 s
//	12      predictor, 500 records    0.214      0.9 s
//	12      predictor, 1,500 records  0.263      0.8 s
//	32      the truth                 0.199      1.7 s
//	32      predictor, 500 records    0.150      2.2 s
//	32      predictor, 1,500 records  0.168      2.0 s
//
// Against a predictor of 1,500 records the agent keeps 95 to 98% of the
// gain it gets against the truth at 5 and 12 layers, 84% at 32, where
// the predictor promises more than the truth gives (0.255): the agent
// finds the predictor's optimistic errors, and more so with fewer
// records (these figures move by a few hundredths from one predictor
// training to another). More records, records of the agent's own
// policies (measured, then added), or a smaller MaxLogit narrow the gap.
//
// One Policy call for a 32-layer model takes 11 µs (BenchmarkPolicy,
// same machine and load as the predictor's benchmarks; PolicyInto
// allocates nothing). A ratio outside the trained range is an
// error wrapping ErrOutOfRange.
//
// # Files
//
// Save writes one JSON file (FileFormat "ppf-agent", FileVersion 1), a
// sibling of the predictor's, with the model ID, the layer count, the
// Space, the Config, the weights and the curve; Load(path, space)
// refuses, with an error wrapping predictor.ErrMismatch, a file of
// another version or format or one trained for another model ID, layer
// count or Space.
package agent
