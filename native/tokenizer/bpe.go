package tokenizer

// This file holds the merge loop shared by all three formats. Each format
// describes its merges as a table from an adjacent pair of ids to the id that
// replaces it and a priority:
//
//   - llama2.c and SentencePiece: merge the pair whose concatenation is the
//     piece with the highest score (priority = -score);
//   - Hugging Face BPE: merge the pair that comes first in the merges list
//     (priority = rank).
//
// In all three the lowest priority is applied first and ties go to the
// leftmost pair. llama2.c's run.c rescans the whole sequence after every
// merge, which is O(n^2) and too slow for a 1.3 MB text in one piece; here the
// sequence is a linked list and the candidate pairs sit in a binary heap
// ordered by (priority, position), so each merge costs O(log n). The heap may
// hold stale candidates (a side was merged away since); they are recognised
// and dropped when popped, so the order of applied merges is exactly the
// rescanning loop's.

// mergeRule replaces an adjacent pair of ids by id. Lower prio merges first.
type mergeRule struct {
	id   int32
	prio float64
}

// mergeTable maps pairKey(left, right) to its rule.
type mergeTable map[uint64]mergeRule

func pairKey(left, right int32) uint64 {
	return uint64(uint32(left))<<32 | uint64(uint32(right))
}

// symbol is a node of the linked list; position i in the list is the index
// of the first input symbol it covers, which orders ties left to right.
type symbol struct {
	id         int32
	prev, next int32 // -1 at the ends
	dead       bool  // merged into its left neighbour
}

// candidate is a possible merge of symbol pos with its right neighbour, as it
// was when pushed: left and right are the two ids it expects to find.
type candidate struct {
	prio        float64
	pos         int32
	left, right int32
}

func (a candidate) less(b candidate) bool {
	return a.prio < b.prio || (a.prio == b.prio && a.pos < b.pos)
}

// merger holds scratch space for one encoding call; it is not shared between
// goroutines.
type merger struct {
	syms []symbol
	heap []candidate
	stopper
}

// stopper ends an encoding call early once done (a context's Done) is
// closed: a 100 MB corpus takes a minute to encode, and Ctrl-C must not wait
// for it. A nil done never stops. stopped records that it did.
type stopper struct {
	done    <-chan struct{}
	work    int
	stopped bool
}

// stop reports whether the encoding call should end, looking at done once
// every 4,096 calls so that the check costs nothing next to the work.
func (s *stopper) stop() bool {
	if s.done == nil || s.stopped {
		return s.stopped
	}
	if s.work++; s.work < 4096 {
		return false
	}
	s.work = 0
	select {
	case <-s.done:
		s.stopped = true
	default:
	}
	return s.stopped
}

// merge applies table to ids and returns the merged ids, reusing ids' storage.
func (m *merger) merge(table mergeTable, ids []int32) []int32 {
	if len(ids) < 2 || len(table) == 0 {
		return ids
	}
	m.syms = m.syms[:0]
	m.heap = m.heap[:0]
	for i, id := range ids {
		m.syms = append(m.syms, symbol{id: id, prev: int32(i - 1), next: int32(i + 1)})
	}
	m.syms[len(m.syms)-1].next = -1
	for i := 0; i+1 < len(ids); i++ {
		m.push(table, int32(i))
	}
	for len(m.heap) > 0 {
		if m.stop() {
			return ids[:0]
		}
		c := m.pop()
		s := &m.syms[c.pos]
		if s.dead || s.id != c.left || s.next < 0 || m.syms[s.next].id != c.right {
			continue // stale: one side changed since this candidate was pushed
		}
		r := &m.syms[s.next]
		s.id = table[pairKey(c.left, c.right)].id
		r.dead = true
		s.next = r.next
		if r.next >= 0 {
			m.syms[r.next].prev = c.pos
		}
		if s.prev >= 0 {
			m.push(table, s.prev)
		}
		m.push(table, c.pos)
	}
	out := ids[:0]
	for i := int32(0); i >= 0; i = m.syms[i].next {
		out = append(out, m.syms[i].id)
	}
	return out
}

// push adds the merge of symbol pos with its right neighbour, if one exists.
func (m *merger) push(table mergeTable, pos int32) {
	s := m.syms[pos]
	if s.next < 0 {
		return
	}
	right := m.syms[s.next].id
	rule, ok := table[pairKey(s.id, right)]
	if !ok {
		return
	}
	m.heap = append(m.heap, candidate{prio: rule.prio, pos: pos, left: s.id, right: right})
	for i := len(m.heap) - 1; i > 0; { // sift up
		p := (i - 1) / 2
		if !m.heap[i].less(m.heap[p]) {
			break
		}
		m.heap[i], m.heap[p] = m.heap[p], m.heap[i]
		i = p
	}
}

// pop removes and returns the candidate with the lowest (prio, pos).
func (m *merger) pop() candidate {
	h := m.heap
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	for i := 0; ; { // sift down
		l, r, min := 2*i+1, 2*i+2, i
		if l < n && h[l].less(h[min]) {
			min = l
		}
		if r < n && h[r].less(h[min]) {
			min = r
		}
		if min == i {
			break
		}
		h[i], h[min] = h[min], h[i]
		i = min
	}
	m.heap = h
	return top
}

// scoreMerges builds the table for score-based BPE (llama2.c, SentencePiece):
// a pair merges when its concatenation is a piece for which canMerge is true,
// with priority -score. lookup maps a piece string to its id.
func scoreMerges(pieces []string, scores []float32, lookup map[string]int32, canMerge func(id int) bool) mergeTable {
	table := make(mergeTable)
	for id, p := range pieces {
		if len(p) < 2 || !canMerge(id) || lookup[p] != int32(id) {
			continue
		}
		for k := 1; k < len(p); k++ {
			l, okL := lookup[p[:k]]
			r, okR := lookup[p[k:]]
			if okL && okR {
				table[pairKey(l, r)] = mergeRule{id: int32(id), prio: -float64(scores[id])}
			}
		}
	}
	return table
}
