// Package predictor is PPF's lightweight performance predictor: a small
// network, in pure Go, that maps a layer-wise pruning policy to the
// log-perplexity the pruned model would measure, so that an agent or a
// search can score a policy in microseconds instead of running the model.
// It imports nothing of the engine and builds for GOOS=js GOARCH=wasm.
//
// # Spaces and policies
//
// A Space says what can be pruned in one model: per layer, the attention
// units (key/value groups) and MLP channels, each unit's parameter cost,
// and the least a layer keeps. NewLlamaSpace builds it from a Llama
// config with the engine's costs (a group of h query heads (2h+2)·HeadDim·Dim,
// a channel 3·Dim). A Policy is the units each layer keeps (or a dropped
// layer); its global ratio is the fraction of the prunable parameters
// removed (Space.Ratio), its kept fractions the predictor's inputs
// (Space.Fractions). Space.Allocate turns per-layer weights into the
// policy that meets a ratio within half a unit (of a channel, wherever
// channels can still move); Space.Uniform is the uniform policy;
// Space.SamplePolicies draws varied policies for a dataset.
//
// # Datasets
//
// A Record is one measured policy (model ID, kept counts and fractions,
// ratio, perplexity, NLL, tokens, seconds, source tag); a Dataset is read
// and written as JSON Lines. The reader names the line of any empty or
// corrupt line, unknown field or unusable value (a perplexity that is
// NaN, infinite or not positive) and skips nothing; Record.CheckSpace
// catches records made for another model or Space. AppendRecord appends
// one record per measurement, so an interrupted collection keeps its work.
//
// # The network
//
// Inputs per layer: kept head fraction, kept MLP fraction, dropped flag
// (standardised), plus the global ratio. Two architectures (Arch):
//
//   - "cnn" (the default, CNNArch(1)): convolutions over the layer axis,
//     16 then 8 channels, ReLU, the first with a learned per-layer bias
//     (a layer embedding, so the network knows which layer is which);
//     the mean over layers with the ratio appended; a dense layer of 32;
//     one output. With kernel 1 it is a network shared by all layers,
//     told apart by their embeddings, whose outputs are pooled: it
//     learns how much each layer's pruning costs, and the dense head
//     learns how the costs combine. CNNArch(3) looks at neighbouring
//     layers too, like the paper's CNN.
//   - "mlp" (MLPArch): all inputs flattened, dense layers of 64 and 32.
//
// Training (Train, TrainConfig): mean squared error of standardised
// log-perplexity, Adam (rate 0.01, halved after 15 epochs without
// progress), mini-batches of 16, L2 1e-4 on weights, early stopping on
// a 15% validation split (patience 30, at most 400 epochs; the best
// epoch's weights are kept). Everything is seeded and single-threaded:
// the same data and config give the same predictor, bit for bit.
//
// # Which network, measured
//
// On the synthetic task (Synthetic: layer sensitivities from 1 to about
// 5, first and last layers most sensitive, attention/MLP and neighbour
// interactions, compounding losses, noise 0.01; log-perplexity 1.8 to
// 11), 1,200 training and 300 held-out policies with ratios 0.05 to 0.7,
// mean of two seeds (TestCompareArchitectures, PPF_PREDICTOR_COMPARE=1):
//
//	layers  network  MAE     Spearman  within-bucket Spearman  training
//	5       cnn k=1  0.0232  0.9998    0.991                   1.2 s
//	5       cnn k=3  0.0252  0.9998    0.991                   1.9 s
//	5       mlp      0.0401  0.9994    0.988                   2.2 s
//	16      cnn k=1  0.0249  0.9997    0.985                   1.4 s
//	16      cnn k=3  0.0277  0.9996    0.984                   6.0 s
//	16      mlp      0.0937  0.9967    0.929                   1.1 s
//	32      cnn k=1  0.0230  0.9997    0.987                   3.3 s
//	32      cnn k=3  0.0274  0.9996    0.986                   10.4 s
//	32      mlp      0.1139  0.9952    0.923                   1.6 s
//
// ("within-bucket" is the mean Spearman inside 0.1-wide ratio buckets:
// how well policies of one ratio are ranked, which is what the agent
// needs.) The CNN with kernel 1 is the most accurate at every depth, and
// trains and scores about twice as fast as kernel 3, so it is the default; the MLP, whose first layer
// grows with depth and shares nothing between layers, falls behind from
// 16 layers on. The task's neighbour interactions are mild; on a real
// model re-run the comparison on measured records (Train with each Arch,
// Evaluate on a held-out split) before trusting the default.
//
// # Scoring
//
// Predictor.Score allocates nothing; ScoreBatch scores many. Measured
// with BenchmarkScore on the 2-core development machine (AMD EPYC, Go
// 1.26) while two other engineers' jobs kept its load near 5, so upper
// bounds; fastest of 5 runs: the default network 0.76 µs per policy at 5
// layers, 2.0 µs at 16, 3.8 µs at 32; CNNArch(3) 1.1, 3.3 and 7.1 µs; the
// MLP 0.75, 1.4 and 2.4 µs. BenchmarkScoreBatch, 1,000 policies of 32
// layers: 4.2 ms. Score takes a lock; Clone gives each goroutine its own
// copy.
//
// # Files
//
// Save writes one JSON file (FileFormat "ppf-predictor", FileVersion 1)
// with the model ID, the layer count, the Space, the normalisation, the
// architecture, the weights (every bit kept) and the training summary
// and curve. Load(path, space) refuses, with an error wrapping
// ErrMismatch, a file of another version or format, or one trained for
// another model ID, layer count or Space.
package predictor
