package dbreplica

import (
	"errors"
	"strings"
)

// Attribute names the piece of configuration a Problem asks the user to change. The
// provider maps these onto its schema paths; the package knows no Terraform types.
type Attribute string

const (
	AttrPrimaryHost     Attribute = "primary.host"
	AttrPrimaryPort     Attribute = "primary.port"
	AttrPrimaryUser     Attribute = "primary.user"
	AttrPrimaryPassword Attribute = "primary.password"
	AttrPrimaryTLS      Attribute = "primary.tls"
	// AttrPrimaryServer means the fix is in db01's own server configuration (my.cnf),
	// not in the provider's: the diagnostic carries the lines to add.
	AttrPrimaryServer Attribute = "primary"
	// AttrServerID is a replica's server_id (Problem.Replica names the replica).
	AttrServerID Attribute = "server_id"
)

// Severity of a Problem: an Error stops the plan, a Warning does not.
type Severity int

const (
	SeverityError Severity = iota + 1
	SeverityWarning
)

// Problem is one finding of a check, shaped for an attribute diagnostic.
type Problem struct {
	Severity  Severity
	Attribute Attribute
	Replica   string // the replica concerned, "" when the problem is the primary's
	Summary   string
	Detail    string // what to change, with the exact my.cnf lines or statements
}

func (p Problem) Error() string {
	var b strings.Builder
	b.WriteString(string(p.Attribute))
	if p.Replica != "" {
		b.WriteString(" (replica " + p.Replica + ")")
	}
	b.WriteString(": " + p.Summary)
	if p.Detail != "" {
		b.WriteString(": " + p.Detail)
	}
	return b.String()
}

// Problems is the result of a check.
type Problems []Problem

// HasErrors reports whether any problem stops the plan.
func (ps Problems) HasErrors() bool {
	for _, p := range ps {
		if p.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Err joins the error-severity problems, nil when there are none.
func (ps Problems) Err() error {
	var errs []error
	for _, p := range ps {
		if p.Severity == SeverityError {
			errs = append(errs, p)
		}
	}
	return errors.Join(errs...)
}

// connProblem turns a connection failure to the primary into a diagnostic on the
// attribute to change.
func connProblem(ep Endpoint, err error) Problem {
	var ce *ConnError
	if !errors.As(err, &ce) {
		return Problem{Severity: SeverityError, Attribute: AttrPrimaryHost,
			Summary: "cannot connect to the primary " + ep.Address(), Detail: err.Error()}
	}
	switch ce.Kind {
	case ConnUnreachable:
		return Problem{Severity: SeverityError, Attribute: AttrPrimaryHost,
			Summary: "the primary " + ep.Address() + " is unreachable",
			Detail: ce.Err.Error() + ". Check primary.host and primary.port, that the server listens on that " +
				"address (bind_address in its my.cnf) and that security groups or firewalls let this " +
				"machine reach the port."}
	case ConnAccessDenied:
		return Problem{Severity: SeverityError, Attribute: AttrPrimaryPassword,
			Summary: "the primary " + ep.Address() + " refused the credentials of user " + quoteForMessage(ep.User),
			Detail:  ce.Err.Error() + ". Check primary.user and primary.password."}
	case ConnHostNotAllowed:
		return Problem{Severity: SeverityError, Attribute: AttrPrimaryUser,
			Summary: "the primary " + ep.Address() + " does not let user " + quoteForMessage(ep.User) + " connect from this machine",
			Detail: ce.Err.Error() + ". Use an account whose host part matches this machine's address, " +
				"or create one on the primary."}
	case ConnTLS:
		return Problem{Severity: SeverityError, Attribute: AttrPrimaryTLS,
			Summary: "TLS with the primary " + ep.Address() + " failed", Detail: ce.Err.Error()}
	default:
		return Problem{Severity: SeverityError, Attribute: AttrPrimaryHost,
			Summary: "connecting to the primary " + ep.Address() + " failed", Detail: ce.Err.Error()}
	}
}

func quoteForMessage(s string) string { return "'" + s + "'" }
