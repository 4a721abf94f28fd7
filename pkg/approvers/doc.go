// Package approvers serves bollard.v1.ApprovalService: the people policy
// names list, read, approve and deny the agents' calls that wait for their
// approval (the two-person rule of issue 17), over the approval store of
// package approval, which enforces who may vote.
//
// Every RPC takes a person's JWT in `authorization: Bearer`, verified by
// an Authenticator. JWTAuthenticator checks it against the identity
// provider Bollard trusts for approvers, configured apart from the agents'
// (an identity.JWTVerifier with its own issuer, audience and keys), and
// reads the person's subject, email and groups from it. A credential an
// agent holds is refused with PERMISSION_DENIED AGENT_CANNOT_APPROVE: one
// the agents' authenticator accepts, a token naming an actor (an RFC 8693
// act claim: a person's token handed to an agent), one whose subject or
// email is an agent's id. Anything else that is not a person's valid token
// is UNAUTHENTICATED. The token is never logged, traced or recorded.
//
// A person sees only the approvals they may approve (Requirement.Qualifies):
// ListApprovals leaves the others out, GetApproval refuses them with
// NOT_AN_APPROVER before saying anything else of them, and WatchApprovals
// never sends them.
//
// The web console (package console) calls the same service in process
// (inprocess.go): PendingFor, ApprovalFor, ApproveAs and DenyAs take the
// Approver it authenticated at sign-in instead of a token, and run the
// same checks, records and spans; each record and log line says which way
// a call came (via api or console).
//
// # Votes are recorded before they count
//
// Every Approve and Deny leaves an audit record (kind approval; see
// docs/audit.md), refused ones included, naming the approver by subject and
// email. A vote that cannot be recorded must not count, and a vote that
// counted cannot be taken back: once it is in the store, an approved call
// may run at any moment. So the order is:
//
//  1. authenticate and validate the request;
//  2. ask the store whether the vote would count (Store.Check, which runs
//     Vote's own rules and returns the approval as the vote would leave
//     it, recording nothing);
//  3. write the record of the accepted vote, with that resulting state;
//     when no sink takes it, answer UNAVAILABLE AUDIT_UNAVAILABLE, and the
//     approval is as it was;
//  4. cast the vote (Store.Vote);
//  5. if the store now refuses it, or it left another state than
//     recorded (the approval expired meanwhile, or was changed by another
//     path), write a second record of the same attempt, marked late, with
//     what happened.
//
// Votes on one approval through one Server take turns from 2 to 5, so
// that step 5 happens only when the approval changed outside this server
// (its expiry, or, with a store the fleet shares, a vote through another
// replica). The order errs on the safe side: a crash between 3 and 4
// leaves a record of a vote that did not count, never a vote that counted
// without a record. Recording after the vote instead would need an undo,
// and the approval may have been used by then. A refused vote's record is
// written before the refusal is returned; when it cannot be, the caller
// gets AUDIT_UNAVAILABLE, as an agent does for a call.
//
// # The approver rule in the proto
//
// The store's requirement is a list of approver sets, a person qualifying
// only when in every set. ApproverRequirement.sets carries them exactly
// (see requirement in convert.go). Its groups and users, older than sets,
// hold the union of the sets' groups and users: with one set they say
// the same as the rule; with several they read wider than it, and the
// proto says they are not for deciding who may approve.
//
// Every status carries a google.rpc.ErrorInfo of domain bollard.dev; the
// reasons are the Reason constants. Each RPC is one span,
// bollard.approval.<RPC>, with the approval id, the approver's subject and
// the result.
package approvers
