package oktasim

import (
	"fmt"
	"net/http"
)

// Okta error codes the simulator uses, with the HTTP status Okta pairs them
// with (https://developer.okta.com/docs/reference/error-codes/).
const (
	CodeValidation         = "E0000001" // 400 Api validation failed
	CodeMalformedBody      = "E0000003" // 400 The request body was not well-formed.
	CodeForbidden          = "E0000006" // 403 You do not have permission...
	CodeNotFound           = "E0000007" // 404 Not found: Resource not found: x (Kind)
	CodePathNotFound       = "E0000008" // 404 The requested path was not found
	CodeInternal           = "E0000009" // 500 Internal Server Error
	CodeUnavailable        = "E0000010" // 503 Service is in read only mode
	CodeInvalidToken       = "E0000011" // 401 Invalid token provided
	CodeAlreadyActive      = "E0000016" // 403 Activation failed because the user is already active
	CodeMethodNotSupported = "E0000022" // 405 The endpoint does not support the provided HTTP method
	CodeInvalidSearch      = "E0000031" // 400 Invalid search criteria.
	CodeUnlockForbidden    = "E0000032" // 403 Unlock is not allowed for this user.
	CodeUserStatus         = "E0000038" // 403 This operation is not allowed in the user's current status.
	CodeDuplicateAppLabel  = "E0000040" // 400 Application label must not match an existing application label.
	CodeRateLimited        = "E0000047" // 429 API call exceeded rate limit due to too many requests.
	CodeAppDeleteForbidden = "E0000056" // 403 Delete application forbidden.
	CodeAlreadyAssigned    = "E0000062" // 409 The specified user is already assigned to the application.
)

// apiError is an Okta error response. Handlers return it; serveHTTP renders
// it with a fresh errorId.
type apiError struct {
	status  int
	code    string
	summary string
	causes  []string
}

func (e *apiError) Error() string { return e.code + ": " + e.summary }

func newError(status int, code, summary string, causes ...string) *apiError {
	return &apiError{status: status, code: code, summary: summary, causes: causes}
}

// errNotFound is Okta's 404 for an object id that does not exist; kind is
// Okta's internal type name (User, UserGroup, AppInstance, ...).
func errNotFound(id, kind string) *apiError {
	return newError(http.StatusNotFound, CodeNotFound, fmt.Sprintf("Not found: Resource not found: %s (%s)", id, kind))
}

// errValidation is Okta's 400 E0000001: the summary names the first bad
// field, the causes say what is wrong with each.
func errValidation(field string, causes ...string) *apiError {
	return newError(http.StatusBadRequest, CodeValidation, "Api validation failed: "+field, causes...)
}

func errMalformed() *apiError {
	return newError(http.StatusBadRequest, CodeMalformedBody, "The request body was not well-formed.")
}

func errForbidden(causes ...string) *apiError {
	return newError(http.StatusForbidden, CodeForbidden, "You do not have permission to perform the requested action", causes...)
}

func errInvalidSearch(cause string) *apiError {
	return newError(http.StatusBadRequest, CodeInvalidSearch, "Invalid search criteria.", cause)
}

// defaultCode picks Okta's usual code for a status, for injected faults that
// name only a status.
func defaultCode(status int) (code, summary string) {
	switch status {
	case http.StatusBadRequest:
		return CodeValidation, "Api validation failed"
	case http.StatusUnauthorized:
		return CodeInvalidToken, "Invalid token provided"
	case http.StatusForbidden:
		return CodeForbidden, "You do not have permission to perform the requested action"
	case http.StatusNotFound:
		return CodeNotFound, "Not found: Resource not found"
	case http.StatusMethodNotAllowed:
		return CodeMethodNotSupported, "The endpoint does not support the provided HTTP method"
	case http.StatusTooManyRequests:
		return CodeRateLimited, "API call exceeded rate limit due to too many requests."
	case http.StatusServiceUnavailable:
		return CodeUnavailable, "Service is in read only mode"
	default:
		return CodeInternal, "Internal Server Error"
	}
}

// errorBody renders an error in Okta's shape. errorCauses is always present,
// empty when there is nothing to add, as Okta sends it.
func (s *Sim) errorBody(e *apiError) obj {
	causes := make([]obj, 0, len(e.causes))
	for _, c := range e.causes {
		causes = append(causes, obj{{"errorSummary", c}})
	}
	return obj{
		{"errorCode", e.code},
		{"errorSummary", e.summary},
		{"errorLink", e.code},
		{"errorId", s.nextErrorID()},
		{"errorCauses", causes},
	}
}
