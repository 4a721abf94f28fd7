package approval

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bollard-dev/bollard/pkg/state"
)

// WithShared keeps the approvals in the store the fleet shares, so that an
// approval created through one replica is listed, decided and watched
// through any, and used once by its agent through any. Every change is one
// script that applies the store's rules to the approval as it stands in
// the store. While the store cannot be reached, Create, Get, List, Check,
// Vote and Redeem fail with an error wrapping state.ErrUnavailable: no
// approval is created, decided or used on one replica's word.
// docs/scaling.md ("Human approvals") lists the keys and what each
// operation costs.
func WithShared(st *state.Store) Option { return func(s *Store) { s.shared = st } }

// sharedTimeout bounds one operation, which has no context of its own (the
// client's timeouts apply within it).
const sharedTimeout = 2 * time.Second

// The keys share one hash tag, so that a script's keys are in one slot of
// a Redis Cluster too.
func (s *Store) key(parts ...string) string {
	return s.shared.Key(append([]string{"{approval}"}, parts...)...)
}

func (s *Store) entryKey(id string) string { return s.key("a", id) }

// allKey: every approval not yet forgotten, scored by when it is (µs).
func (s *Store) allKey() string { return s.key("all") }

// pendingKey: the pending approvals, scored by expiry (µs).
func (s *Store) pendingKey() string { return s.key("pending") }

// agentKey: an agent's pending approvals, scored by expiry (µs).
func (s *Store) agentKey(agent string) string {
	h := sha256.Sum256([]byte(agent)) // any agent id makes a plain key
	return s.key("p", hex.EncodeToString(h[:16]))
}

// changesKey: the change stream that wakes every replica's watchers.
func (s *Store) changesKey() string { return s.key("changes") }

// validID reports whether id has newID's shape: anything else is unknown
// without asking the store.
func validID(id string) bool {
	rest, ok := strings.CutPrefix(id, "ap_")
	if !ok || len(rest) != 26 {
		return false
	}
	for _, c := range []byte(rest) {
		if (c < 'A' || c > 'Z') && (c < '2' || c > '7') {
			return false
		}
	}
	return true
}

// unavailable wraps a failed command: every failure is the store's being
// unavailable to the caller, who fails closed.
func (s *Store) unavailable(op string, err error) error {
	s.shared.Observe(err)
	return fmt.Errorf("approval %s: %w: %w", op, state.ErrUnavailable, err)
}

func micros(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 10) }

func (s *Store) sharedCreate(r Request, ttl time.Duration) (Approval, error) {
	now := s.now().Truncate(time.Microsecond)
	a := Approval{ID: newID(), Request: r, State: Pending, Created: now, Expires: now.Add(ttl).Truncate(time.Microsecond)}
	forget := a.Expires.Add(keepFinal)
	fields, err := entryFields(&a, s.agentKey(r.Agent))
	if err != nil {
		return Approval{}, err
	}
	args := append([]any{micros(now), micros(a.Expires), micros(forget), forget.Sub(now).Milliseconds() + 1,
		s.maxPending, s.perAgt, a.ID}, fields...)
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	n, err := createScript.Run(ctx, s.shared.Client(),
		[]string{s.entryKey(a.ID), s.allKey(), s.pendingKey(), s.agentKey(r.Agent), s.changesKey()}, args...).Int()
	switch {
	case err != nil:
		return Approval{}, s.unavailable("create", err)
	case n == 0:
		return Approval{}, ErrTooManyPending
	case n != 1:
		return Approval{}, errors.New("approval create: the new id is taken")
	}
	s.notify()
	return a, nil
}

func (s *Store) sharedGet(id string) (Approval, error) {
	if !validID(id) {
		return Approval{}, ErrNotFound
	}
	code, _, a, err := s.run(getScript, "get", id, micros(s.now()))
	if err != nil {
		return Approval{}, err
	}
	if code != "ok" {
		return Approval{}, ErrNotFound
	}
	return a, nil
}

func (s *Store) sharedVote(id string, p Person, approve bool, comment string, commit bool) (Approval, error) {
	if !validID(id) {
		return Approval{}, ErrNotFound
	}
	now := s.now().Truncate(time.Microsecond)
	v := Vote{Approver: Person{Subject: p.Subject, Email: p.Email, UserID: p.UserID, Groups: slices.Clone(p.Groups)}, Approve: approve, Comment: comment, At: now}
	vote, err := json.Marshal(voteOf(v))
	if err != nil {
		return Approval{}, fmt.Errorf("approval vote: %w", err)
	}
	groups := make([]string, 0, len(p.Groups))
	for _, g := range p.Groups {
		groups = append(groups, hexOf(g))
	}
	groupsJSON, _ := json.Marshal(groups) // hex strings
	isAgent := p.Subject == "" || s.isAgent(p.Subject) || s.isAgent(p.Email)
	code, st, a, err := s.run(voteScript, "vote", id, micros(now), flag(!commit), flag(isAgent),
		hexOf(p.Subject), hexFold(p.Email), string(groupsJSON), flag(approve), string(vote), hexFold(p.Subject), hexOf(p.UserID))
	if err != nil {
		return Approval{}, err
	}
	switch code {
	case "ok":
	case "notfound":
		return Approval{}, ErrNotFound
	default:
		return a, voteRefusal(code)
	}
	if commit {
		s.notify()
		return a, nil
	}
	a.Votes = append(a.Votes, v)
	a.State = State(st)
	return a, nil
}

func voteRefusal(code string) error {
	switch code {
	case "agent":
		return ErrAgentApprover
	case "notapprover":
		return ErrNotApprover
	case "self":
		return ErrSelfApproval
	case "notpending":
		return ErrNotPending
	case "voted":
		return ErrAlreadyVoted
	}
	return fmt.Errorf("approval vote: the store answered %q", code)
}

func (s *Store) sharedRedeem(id string, b Binding) (Approval, error) {
	if !validID(id) {
		return Approval{}, ErrNotFound
	}
	code, _, a, err := s.run(redeemScript, "redeem", id, micros(s.now()), hexOf(b.Agent), bindingHash(b))
	if err != nil {
		return Approval{}, err
	}
	switch code {
	case "ok":
		s.notify()
		return a, nil
	case "notapproved":
		return a, ErrNotApproved
	case "notpending":
		return a, ErrNotPending
	case "mismatch":
		return a, ErrMismatch
	}
	return Approval{}, ErrNotFound
}

// run runs one of the scripts on one approval, whose answer is {code,
// state, fields}; a is the approval as the fields give it.
func (s *Store) run(script *redis.Script, op, id string, args ...any) (code string, st int64, a Approval, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	res, err := script.Run(ctx, s.shared.Client(), []string{s.entryKey(id), s.pendingKey(), s.changesKey()}, args...).Slice()
	if err != nil {
		return "", 0, Approval{}, s.unavailable(op, err)
	}
	if len(res) != 3 {
		return "", 0, Approval{}, fmt.Errorf("approval %s: the store answered %d values", op, len(res))
	}
	code, _ = res[0].(string)
	st, _ = res[1].(int64)
	flat, _ := res[2].([]any)
	if len(flat) == 0 {
		return code, st, Approval{}, nil
	}
	a, err = decodeEntry(pairs(flat))
	if err != nil {
		return "", 0, Approval{}, fmt.Errorf("approval %s: %s: %w", op, id, err)
	}
	return code, st, a, nil
}

// sharedList reads every approval not yet forgotten, in one round trip
// for the ids and one for the entries, plus one to expire those due.
func (s *Store) sharedList(states []State) ([]Approval, error) {
	now := s.now()
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	c := s.shared.Client()
	ids, err := c.ZRangeByScore(ctx, s.allKey(), &redis.ZRangeBy{Min: micros(now), Max: "+inf"}).Result()
	if err != nil {
		return nil, s.unavailable("list", err)
	}
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	if len(ids) > 0 {
		_, err = c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, id := range ids {
				cmds[i] = p.HGetAll(ctx, s.entryKey(id))
			}
			return nil
		})
		if err != nil {
			return nil, s.unavailable("list", err)
		}
	}
	var (
		all []Approval
		due []int // indexes in all of approvals to expire
	)
	for _, cmd := range cmds {
		fields := cmd.Val()
		if len(fields) == 0 {
			continue // forgotten since
		}
		a, err := decodeEntry(fields)
		if err != nil || now.After(a.Expires.Add(keepFinal)) {
			continue // an entry that cannot be read is not shown
		}
		if (a.State == Pending || a.State == Approved) && !now.Before(a.Expires) {
			due = append(due, len(all))
		}
		all = append(all, a)
	}
	if err := s.expireListed(ctx, all, due, now); err != nil {
		return nil, err
	}
	out := all[:0]
	for _, a := range all {
		if a.State != 0 && (len(states) == 0 || slices.Contains(states, a.State)) {
			out = append(out, a)
		}
	}
	sortApprovals(out)
	return out, nil
}

// expireListed writes the expiry of the listed approvals that are due, and
// sets each one's state to what the store then holds (0: forgotten).
func (s *Store) expireListed(ctx context.Context, all []Approval, due []int, now time.Time) error {
	if len(due) == 0 {
		return nil
	}
	keys := []string{s.pendingKey(), s.changesKey()}
	for _, i := range due {
		keys = append(keys, s.entryKey(all[i].ID))
	}
	got, err := expireScript.Run(ctx, s.shared.Client(), keys, micros(now)).Int64Slice()
	if err != nil {
		return s.unavailable("list", err)
	}
	for j, i := range due {
		if j < len(got) {
			all[i].State = State(got[j])
		}
	}
	s.notify()
	return nil
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// pairs reads HGETALL's answer as a script returns it: field, value, ...
func pairs(flat []any) map[string]string {
	m := make(map[string]string, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		k, _ := flat[i].(string)
		v, _ := flat[i+1].(string)
		m[k] = v
	}
	return m
}

// bindingHash is what the store keeps of a binding, as confirm does.
func bindingHash(b Binding) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d:%s|%d:%s|", len(b.Agent), b.Agent, len(b.Action), b.Action)
	h.Write(b.ParamsHash[:])
	return hex.EncodeToString(h.Sum(nil))
}
