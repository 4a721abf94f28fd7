package approvers

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/approval"
)

// Page sizes of ListApprovals.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// Page tokens: a version, the states of the listing, where the page
// before ended (its last approval's creation and id), and an HMAC under
// the server's key over that and the caller's subject. A token is thus
// good only for the listing that issued it (same states, same person,
// same process) and cannot be made up. Tokens do not outlive the process,
// nor do the approvals of the memory store.
const (
	pageVersion  = 1
	pageMACLen   = 16
	maxPageToken = 512
)

var errBadPage = errors.New("not the next_page_token of this listing")

type cursor struct {
	created int64 // Unix nanoseconds
	id      string
}

// before reports whether c comes before a in the listing's order, the
// store's: oldest first, then by id.
func (c cursor) before(a approval.Approval) bool {
	if o := cmp.Compare(a.Created.UnixNano(), c.created); o != 0 {
		return o > 0
	}
	return strings.Compare(a.ID, c.id) > 0
}

func (s *Server) list(ctx context.Context, c *call, req *bollardv1.ListApprovalsRequest) (*bollardv1.ListApprovalsResponse, error) {
	p, err := s.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	c.subject = p.Subject
	wanted, mask, f := listStates(req.GetStates())
	if f != nil {
		return nil, f
	}
	size := int(req.GetPageSize())
	switch {
	case size < 0:
		return nil, invalid("page_size", "negative")
	case size == 0:
		size = DefaultPageSize
	case size > MaxPageSize:
		size = MaxPageSize
	}
	var from *cursor
	if tok := req.GetPageToken(); tok != "" {
		cur, err := s.readPage(tok, p.Subject, mask)
		if err != nil {
			f := invalid("page_token", errBadPage.Error())
			f.err = fmt.Errorf("page token: %w", err)
			return nil, f
		}
		from = &cur
	}
	resp := &bollardv1.ListApprovalsResponse{}
	all, err := s.store.List(wanted...)
	if err != nil {
		return nil, storeFailure(err, approval.Approval{})
	}
	var last approval.Approval
	for _, a := range all {
		if !a.Requirement.Qualifies(p.Person) || (from != nil && !from.before(a)) {
			continue
		}
		if len(resp.Approvals) == size {
			resp.NextPageToken = s.pageToken(p.Subject, mask, last)
			break
		}
		msg, ok := s.shown(ctx, a)
		if !ok {
			continue
		}
		resp.Approvals = append(resp.Approvals, msg)
		last = a
	}
	c.sent = len(resp.Approvals)
	return resp, nil
}

// listStates reads the states asked for (pending when none), and their set
// as the bits of a byte for the page token.
func listStates(in []bollardv1.ApprovalState) ([]approval.State, byte, *failure) {
	if len(in) == 0 {
		in = []bollardv1.ApprovalState{bollardv1.ApprovalState_APPROVAL_STATE_PENDING}
	}
	var (
		out  []approval.State
		mask byte
	)
	for _, ps := range in {
		st, ok := storeState(ps)
		if !ok {
			return nil, 0, invalid("states", "holds an unspecified or unknown state")
		}
		if !slices.Contains(out, st) {
			out = append(out, st)
			mask |= 1 << uint(st)
		}
	}
	return out, mask, nil
}

func (s *Server) pageToken(subject string, mask byte, last approval.Approval) string {
	b := make([]byte, 0, 10+len(last.ID)+pageMACLen)
	b = append(b, pageVersion, mask)
	b = binary.BigEndian.AppendUint64(b, uint64(last.Created.UnixNano()))
	b = append(b, last.ID...)
	b = append(b, s.pageMAC(b, subject)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Server) readPage(tok, subject string, mask byte) (cursor, error) {
	if len(tok) > maxPageToken {
		return cursor{}, errors.New("too long")
	}
	// Strict: one token, one spelling.
	b, err := base64.RawURLEncoding.Strict().DecodeString(tok)
	if err != nil || len(b) < 10+pageMACLen {
		return cursor{}, errors.New("malformed")
	}
	body, mac := b[:len(b)-pageMACLen], b[len(b)-pageMACLen:]
	switch {
	case !hmac.Equal(mac, s.pageMAC(body, subject)):
		return cursor{}, errors.New("not issued to this person by this server")
	case body[0] != pageVersion:
		return cursor{}, errors.New("unknown version")
	case body[1] != mask:
		return cursor{}, errors.New("issued for other states")
	}
	return cursor{created: int64(binary.BigEndian.Uint64(body[2:10])), id: string(body[10:])}, nil
}

func (s *Server) pageMAC(body []byte, subject string) []byte {
	m := hmac.New(sha256.New, s.pageKey)
	m.Write(body)
	m.Write([]byte{0})
	m.Write([]byte(subject))
	return m.Sum(nil)[:pageMACLen]
}
