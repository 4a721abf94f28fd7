package console

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/approvers"
	"github.com/bollard-dev/bollard/pkg/safetext"
)

// view is what a page shows. Every string in it is escaped by the
// templates; those an agent, a policy or a person wrote go through clean
// (safetext.Block).
type view struct {
	Title   string
	Who     string // the person signed in; "" when none
	CSRF    string // the session's token, for the forms
	Error   string // what went wrong with the last action
	Message string // the message page's text
	SignIn  bool   // the message page offers to sign in
	Next    string // where the continue page goes
	Now     time.Time

	List []approval.Approval
	More bool

	A      *approval.Approval
	Target *structpb.Struct
	Voted  bool // the person signed in has voted on A
}

// render executes a page into a buffer first, so that a template error
// never leaves half a page.
func (c *Console) render(w http.ResponseWriter, _ *http.Request, status int, name string, v *view) {
	if v.Now.IsZero() {
		v.Now = c.cfg.Now()
	}
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, name, v); err != nil {
		c.log.Error("console: page not rendered", "page", name, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// signedIn is the request's session, or a redirect to sign in that comes
// back to this page.
func (c *Console) signedIn(w http.ResponseWriter, r *http.Request) *session {
	_, sess, err := c.session(r)
	if err != nil {
		c.storeDown(w, r, err, "GET "+r.URL.Path)
		return nil
	}
	if sess == nil {
		toSignIn(w, r)
	}
	return sess
}

// toSignIn sends the browser to sign in, and back to this page after.
func toSignIn(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, Prefix+"login?"+url.Values{"next": {r.URL.RequestURI()}}.Encode(), http.StatusSeeOther)
}

func (c *Console) base(sess *session, title string) *view {
	who := sess.who.Email
	if who == "" {
		who = sess.who.Subject
	}
	return &view{Title: title, Who: who, CSRF: sess.csrf}
}

// list is the pending approvals the person may decide; without a session
// but with a state, the page the provider's sign-out came back to.
func (c *Console) list(w http.ResponseWriter, r *http.Request) {
	_, sess, err := c.session(r)
	switch {
	case err != nil:
		c.storeDown(w, r, err, "GET "+r.URL.Path)
		return
	case sess == nil && r.URL.Query().Has("state"):
		c.signedOut(w, r)
		return
	case sess == nil:
		toSignIn(w, r)
		return
	}
	v := c.base(sess, "Pending approvals")
	list, more, err := c.cfg.Approvals.PendingFor(r.Context(), sess.who, listLimit)
	if err != nil {
		c.failed(w, r, v, err)
		return
	}
	v.List, v.More = list, more
	c.render(w, r, http.StatusOK, "list", v)
}

// detail is one approval, with its votes and, while pending, the forms.
func (c *Console) detail(w http.ResponseWriter, r *http.Request) {
	sess := c.signedIn(w, r)
	if sess == nil {
		return
	}
	c.showApproval(w, r, sess, http.StatusOK, "")
}

func (c *Console) showApproval(w http.ResponseWriter, r *http.Request, sess *session, status int, problem string) {
	v := c.base(sess, "Approval")
	a, target, err := c.cfg.Approvals.ApprovalFor(r.Context(), sess.who, r.PathValue("id"))
	if err != nil {
		c.failed(w, r, v, err)
		return
	}
	v.A, v.Target, v.Error = &a, target, problem
	for _, vote := range a.Votes {
		if vote.Approver.Subject == sess.who.Subject {
			v.Voted = true
		}
	}
	c.render(w, r, status, "detail", v)
}

// vote approves or denies, then shows the approval (after a redirect, so
// that reloading does not send the vote again), or the page again with
// why the vote was refused.
func (c *Console) vote(w http.ResponseWriter, r *http.Request, approve bool) {
	_, sess := c.checkPost(w, r)
	if sess == nil {
		return
	}
	id := r.PathValue("id")
	var err error
	if approve {
		_, err = c.cfg.Approvals.ApproveAs(r.Context(), sess.who, id, r.PostForm.Get("comment"))
	} else {
		_, err = c.cfg.Approvals.DenyAs(r.Context(), sess.who, id, r.PostForm.Get("reason"))
	}
	if err == nil {
		http.Redirect(w, r, Prefix+url.PathEscape(id), http.StatusSeeOther)
		return
	}
	switch approvers.ReasonOf(err) {
	case approvers.ReasonNotFound, approvers.ReasonNotAnApprover, approvers.ReasonUnauthenticated, approvers.ReasonAgentCannotApprove:
		c.failed(w, r, c.base(sess, "Approval"), err)
	default:
		c.showApproval(w, r, sess, statusOf(err), approvers.MessageOf(err))
	}
}

// failed shows why the approvers' service refused; an expired session
// ends.
func (c *Console) failed(w http.ResponseWriter, r *http.Request, v *view, err error) {
	if approvers.ReasonOf(err) == approvers.ReasonUnauthenticated {
		if id, _, _ := c.session(r); id != "" {
			_ = c.endSession(r.Context(), id)
		}
		clearSessionCookie(w)
		c.render(w, r, http.StatusUnauthorized, "message", &view{Title: "Signed out", Message: "Your session has ended. Sign in again.", SignIn: true})
		return
	}
	v.Title, v.Message = "Refused", approvers.MessageOf(err)
	c.render(w, r, statusOf(err), "message", v)
}

// statusOf is the HTTP status of an error of the approvers' service.
func statusOf(err error) int {
	switch approvers.ReasonOf(err) {
	case approvers.ReasonNotFound:
		return http.StatusNotFound
	case approvers.ReasonNotAnApprover, approvers.ReasonSelfApproval, approvers.ReasonAlreadyVoted, approvers.ReasonAgentCannotApprove:
		return http.StatusForbidden
	case approvers.ReasonUnauthenticated:
		return http.StatusUnauthorized
	case approvers.ReasonInvalidArgument:
		return http.StatusBadRequest
	case approvers.ReasonNotPending:
		return http.StatusConflict
	case approvers.ReasonAuditUnavailable, approvers.ReasonShuttingDown:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// showJSON is a value as indented JSON, cleaned, for a <pre>. Characters
// are kept as written (html/template escapes them for the page).
func showJSON(v any) string {
	if m, ok := v.(*structpb.Struct); ok {
		v = m.AsMap()
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return "(not shown: " + err.Error() + ")"
	}
	return safetext.Block(strings.TrimSuffix(b.String(), "\n"))
}

// when is a time in UTC, to the second.
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}
