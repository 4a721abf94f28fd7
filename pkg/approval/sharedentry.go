package approval

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// storedRequest is the request as the shared store keeps it (field req),
// for Go alone: the scripts read rule.
type storedRequest struct {
	Agent       string            `json:"agent"`
	Action      string            `json:"action"`
	ParamsHash  string            `json:"params_hash"` // hex
	Params      map[string]any    `json:"params,omitempty"`
	OnBehalfOf  string            `json:"on_behalf_of,omitempty"`
	Concerns    []string          `json:"concerns,omitempty"`
	DecisionID  string            `json:"decision_id,omitempty"`
	TraceParent string            `json:"traceparent,omitempty"`
	Requirement storedRequirement `json:"requirement"`
}

type storedRequirement struct {
	Approvers []storedSet `json:"approvers"`
	Approvals int         `json:"approvals"`
	TTL       int64       `json:"ttl_ns"`
	Reason    string      `json:"reason"`
}

type storedSet struct {
	Groups []string `json:"groups,omitempty"`
	Users  []string `json:"users,omitempty"`
}

// storedVote is a vote as the store keeps it (field vI).
type storedVote struct {
	Subject string   `json:"sub"`
	Email   string   `json:"email,omitempty"`
	UserID  string   `json:"uid,omitempty"`
	Groups  []string `json:"groups,omitempty"`
	Approve bool     `json:"approve"`
	Comment string   `json:"comment,omitempty"`
	At      int64    `json:"at_us"`
}

func voteOf(v Vote) storedVote {
	return storedVote{Subject: v.Approver.Subject, Email: v.Approver.Email, UserID: v.Approver.UserID, Groups: v.Approver.Groups,
		Approve: v.Approve, Comment: v.Comment, At: v.At.UnixMicro()}
}

// scriptRule is what voteScript reads (field rule): every string it
// compares is hex (hexOf) or hex of its fold (hexFold), and every list is
// an array, never null, so that the script's checks are those of
// refuseLocked and Requirement.Qualifies, byte for byte.
type scriptRule struct {
	Sets []scriptSet `json:"sets"`
	N    int         `json:"n"`   // approvals needed
	Ag   string      `json:"ag"`  // the agent
	Ob   string      `json:"ob"`  // the person it acts for, "" when none
	Obf  string      `json:"obf"` // folded
	C    []string    `json:"c"`   // the users the call changes
	Cf   []string    `json:"cf"`  // folded
}

type scriptSet struct {
	U  []string `json:"u"`  // users
	Uf []string `json:"uf"` // folded
	G  []string `json:"g"`  // groups
}

func ruleOf(r Request) scriptRule {
	out := scriptRule{Sets: make([]scriptSet, 0, len(r.Requirement.Approvers)), N: r.Requirement.Approvals,
		Ag: hexOf(r.Agent), Ob: hexOf(r.OnBehalfOf), Obf: hexFold(r.OnBehalfOf),
		C: make([]string, 0, len(r.Concerns)), Cf: make([]string, 0, len(r.Concerns))}
	for _, c := range r.Concerns {
		out.C, out.Cf = append(out.C, hexOf(c)), append(out.Cf, hexFold(c))
	}
	for _, s := range r.Requirement.Approvers {
		set := scriptSet{U: make([]string, 0, len(s.Users)), Uf: make([]string, 0, len(s.Users)), G: make([]string, 0, len(s.Groups))}
		for _, u := range s.Users {
			set.U, set.Uf = append(set.U, hexOf(u)), append(set.Uf, hexFold(u))
		}
		for _, g := range s.Groups {
			set.G = append(set.G, hexOf(g))
		}
		out.Sets = append(out.Sets, set)
	}
	return out
}

// entryFields are a new approval's fields and values, for HSET.
func entryFields(a *Approval, agentKey string) ([]any, error) {
	r := a.Request
	req := storedRequest{Agent: r.Agent, Action: r.Action, ParamsHash: hex.EncodeToString(r.ParamsHash[:]),
		Params: r.Params, OnBehalfOf: r.OnBehalfOf, Concerns: r.Concerns, DecisionID: r.DecisionID, TraceParent: r.TraceParent,
		Requirement: storedRequirement{Approvals: r.Requirement.Approvals, TTL: int64(r.Requirement.TTL), Reason: r.Requirement.Reason}}
	for _, s := range r.Requirement.Approvers {
		req.Requirement.Approvers = append(req.Requirement.Approvers, storedSet(s))
	}
	reqJSON, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("approval: the request cannot be stored: %w", err)
	}
	rule, err := json.Marshal(ruleOf(r))
	if err != nil {
		return nil, fmt.Errorf("approval: the request cannot be stored: %w", err)
	}
	return []any{
		"id", a.ID, "req", string(reqJSON), "rule", string(rule),
		"ag", hexOf(r.Agent), "b", bindingHash(r.Binding), "pk", agentKey,
		"st", int(Pending), "cr", micros(a.Created), "ex", micros(a.Expires), "fg", micros(a.Expires.Add(keepFinal)),
		"n", 0, "na", 0,
	}, nil
}

// decodeEntry reads an approval's fields. The store is the fleet's own,
// but what it holds is still checked: an entry that does not read whole
// is an error, never half an approval.
func decodeEntry(f map[string]string) (Approval, error) {
	var req storedRequest
	if err := json.Unmarshal([]byte(f["req"]), &req); err != nil {
		return Approval{}, fmt.Errorf("stored request: %w", err)
	}
	st, err1 := strconv.Atoi(f["st"])
	cr, err2 := strconv.ParseInt(f["cr"], 10, 64)
	ex, err3 := strconv.ParseInt(f["ex"], 10, 64)
	n, err4 := strconv.Atoi(f["n"])
	ph, err5 := hex.DecodeString(req.ParamsHash)
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil || f["id"] == "" || st < int(Pending) || st > int(Used) ||
		n < 0 || n > maxApprovals || len(ph) != 32 {
		return Approval{}, errors.New("stored approval unreadable")
	}
	a := Approval{ID: f["id"], State: State(st), Created: time.UnixMicro(cr), Expires: time.UnixMicro(ex)}
	a.Request = Request{Binding: Binding{Agent: req.Agent, Action: req.Action}, Params: req.Params, OnBehalfOf: req.OnBehalfOf,
		Concerns: req.Concerns, DecisionID: req.DecisionID, TraceParent: req.TraceParent,
		Requirement: Requirement{Approvals: req.Requirement.Approvals, TTL: time.Duration(req.Requirement.TTL), Reason: req.Requirement.Reason}}
	copy(a.ParamsHash[:], ph)
	for _, s := range req.Requirement.Approvers {
		a.Requirement.Approvers = append(a.Requirement.Approvers, Set(s))
	}
	for i := 1; i <= n; i++ {
		var v storedVote
		if err := json.Unmarshal([]byte(f["v"+strconv.Itoa(i)]), &v); err != nil {
			return Approval{}, fmt.Errorf("stored vote %d: %w", i, err)
		}
		a.Votes = append(a.Votes, Vote{Approver: Person{Subject: v.Subject, Email: v.Email, UserID: v.UserID, Groups: v.Groups},
			Approve: v.Approve, Comment: v.Comment, At: time.UnixMicro(v.At)})
	}
	return a, nil
}
