// Package ppfnb holds what a notebook cell (or the ppf command) calls.
// Its exported API has no generics, so the yaegi interpreter behind the
// Jupyter kernel can call all of it; the heavy work runs compiled in
// package native. Read it top down:
//
// # Models
//
// [Load] finds a model by name in $PPF_MODELS (or takes a path: a
// llama2.c checkpoint, a Hugging Face folder) with its tokenizer, and
// returns an [LM]: [LM.Generate] writes text, [LM.Evaluate] measures
// perplexity on a text file with the protocol of [TextProtocol], and
// [LM.UseBackend] moves measurements to a GPU backend.
//
// # Pruning one model
//
// [Prune] runs the chain `ppf prune` runs (calibrate when the method
// needs it, plan, slice) and returns a [Pruned]: the smaller model as an
// LM, with its plan and calibration; [LM.Save] writes it with its
// tokenizer so that Load reads it back.
//
// # Pruning policies, measured
//
// An [Evaluator] is a model with its calibration and its text cut into
// disjoint slices ([Slices]: calibration, search, held-out report,
// WikiText-2). It measures any layer-wise policy ([Evaluator.Measure],
// [Evaluator.Fitness]) with one fixed choice of units (FLAP's scores by
// default, see [UnitsFLAP]), and makes the baselines' policies
// ([Evaluator.BaselinePolicy]: uniform, Wanda-sp, OWL, FLAP, ShortGPT).
// Policies are predictor.Policy values: KV groups and MLP channels kept
// per layer, the vocabulary the engine shares (native/policy; convert
// with prune.Policy(p) and predictor.Policy(p)).
//
// # The PPF pipeline
//
// [Collect] measures sampled policies into a resumable dataset (sharded,
// then [MergeShards]); the predictor and the agent are trained on it in
// packages predictor and agent; [Search] looks for the best policy at
// one ratio on the predictor, verifying for real; [RunExperiment] runs
// all of it and measures every method on held-out text.
//
// # The duel
//
// [RunDuel] gives [EvoPress], [RandomSearch] and PPF the same budget of
// real evaluations, counted in one [Ledger] through the [Judge]
// interface, and follows each one's best policy so far ([DuelResult.Anytime],
// [DuelResult.Plot]).
//
// # Charts and display
//
// Every Plot* function returns a [Figure], shown as an image when it is a
// cell's last expression; [Sweep] collects perplexities over methods and
// ratios as a table and a chart. Package chart lays the figures out and
// holds their marks, ticks and colours, for a cell's own charts too. Rich output during a cell (progress,
// tables) is package display.
package ppfnb
