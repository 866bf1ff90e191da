package ppfnb

import (
	"context"
	"errors"

	"github.com/ppfkit/ppf/ppfnb/predictor"
)

// Ledger counts what a method spent to find its policy. Real evaluations
// run the model; they are counted as policies evaluated and as tokens
// forwarded, since a measurement on 512 tokens costs an eighth of one on
// 4,096. Predictor and agent calls run no model and are counted apart.
type Ledger struct {
	Evals          int   `json:"evals"`           // real evaluations: one policy run on some windows of the search slice
	Tokens         int64 `json:"tokens"`          // tokens those evaluations forwarded (windows x window length)
	PredictorCalls int64 `json:"predictor_calls"` // policies scored by the predictor
	AgentCalls     int64 `json:"agent_calls"`     // policies asked of the agent
	Refits         int   `json:"refits"`          // predictor trainings
}

// Add returns the sum of two ledgers.
func (l Ledger) Add(o Ledger) Ledger {
	return Ledger{Evals: l.Evals + o.Evals, Tokens: l.Tokens + o.Tokens, PredictorCalls: l.PredictorCalls + o.PredictorCalls,
		AgentCalls: l.AgentCalls + o.AgentCalls, Refits: l.Refits + o.Refits}
}

// errBudget stops a search whose next real evaluation would pass its budget.
var errBudget = errors.New("budget spent")

// charge counts one real evaluation of tokens, or refuses it with
// errBudget when it would take the spend past budget (0: no limit).
func (l *Ledger) charge(tokens, budget int64) error {
	if budget > 0 && l.Tokens+tokens > budget {
		return errBudget
	}
	l.Evals++
	l.Tokens += tokens
	return nil
}

// meter is a Judge that charges a ledger for every real evaluation and
// refuses one that would pass the budget (in tokens; 0: no limit).
type meter struct {
	j      Judge
	ledger *Ledger
	budget int64
}

func (m *meter) SearchWindows() (int, int) { return m.j.SearchWindows() }

func (m *meter) Fitness(ctx context.Context, p predictor.Policy, fitness string, windows []int) (float64, error) {
	_, seqLen := m.j.SearchWindows()
	if err := m.ledger.charge(int64(len(windows)*seqLen), m.budget); err != nil {
		return 0, err
	}
	return m.j.Fitness(ctx, p, fitness, windows)
}

// Step is a change of a search's incumbent, with what had been spent
// when it happened.
type Step struct {
	Evals   int              `json:"evals"`
	Tokens  int64            `json:"tokens"`
	Fitness float64          `json:"fitness"` // the incumbent's, as its search measured it
	Policy  predictor.Policy `json:"policy"`
}

// SearchRun is what a search with real evaluations found, and its path:
// the incumbent after every change, for anytime curves.
type SearchRun struct {
	Method      string           `json:"method"`
	Ratio       float64          `json:"ratio"`
	Fitness     string           `json:"fitness"`
	Best        predictor.Policy `json:"best"`
	BestFitness float64          `json:"best_fitness"`
	Spent       Ledger           `json:"spent"`
	Steps       []Step           `json:"steps"`
}

// track records p as the incumbent when it differs from the last one.
func (r *SearchRun) track(l Ledger, p predictor.Policy, fitness float64) {
	r.Best, r.BestFitness = p, fitness
	if n := len(r.Steps); n > 0 && policyKey(r.Steps[n-1].Policy) == policyKey(p) {
		return
	}
	r.Steps = append(r.Steps, Step{Evals: l.Evals, Tokens: l.Tokens, Fitness: fitness, Policy: p})
}

// IncumbentAt returns the incumbent once tokens had been spent; false
// before the first.
func (r *SearchRun) IncumbentAt(tokens int64) (Step, bool) {
	var s Step
	ok := false
	for _, st := range r.Steps {
		if st.Tokens > tokens {
			break
		}
		s, ok = st, true
	}
	return s, ok
}
