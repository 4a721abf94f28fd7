// Package shape applies the policy obligations that change what an agent
// reads, and guards the queries that could read around them.
//
// A remove_fields obligation lists dotted paths (profile.mobilePhone) that
// the agent may not see. Remover.Apply removes each path relative to every
// object in Okta's answer, at any depth, not only the top-level object or
// the elements of a list: Okta embeds resources in others (the user of an
// app assignment under _embedded.user, the targets of an event), and a
// field hidden in one place is hidden in all. Paths step through arrays, and
// names compare without regard to case, so that neither the answer's shape
// nor a policy's spelling decides whether a field leaks.
//
// Removing a field from answers is not enough when the agent can ask Okta
// about it: a search such as profile.mobilePhone sw "555" answers yes or no,
// and prefix by prefix gives the value away. Remover.Hidden (for a sort
// attribute) and Remover.HiddenInExpression (for the search and filter
// parameters) report when a query names a hidden attribute, so that the
// caller can refuse it. An expression they cannot read is an error, for the
// same reason: a reader that guesses can be steered.
//
// Everything fails closed and is bounded: an answer that is not exactly one
// JSON value, or that nests deeper than MaxDepth, is an error rather than
// passing unshaped, and expressions are limited to MaxExpressionLen bytes.
//
// Okta's JSON passes through untouched unless an obligation applies. When
// one does, the answer is decoded and encoded again: numbers keep their exact
// spelling and HTML characters are not escaped, but an object's members come
// back sorted by name, and of duplicate names only the last remains.
package shape
