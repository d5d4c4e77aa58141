package dnsrecord

import (
	"fmt"
	"time"
)

// Timing is what decides when resolvers stop answering the old address of a name.
//
// A resolver that fetched the record at time f keeps it until f plus the TTL it was given. So
// after the TTL is lowered at L (records unchanged) and the records are switched at T, the last
// resolver to hold the old address lets go at max(L + PreviousTTL, T + LowTTL). For every
// resolver to answer the new address when the event starts:
//
//	lower the TTL by  starts_at − PreviousTTL
//	switch by         starts_at − LowTTL
//
// Without lowering, LowTTL is PreviousTTL and both moments are the same.
type Timing struct {
	StartsAt time.Time
	// PreviousTTL is the TTL the name had before it was taken over (the zone's when the
	// record set had none); 0 for a name that had no record set.
	PreviousTTL time.Duration
	// LowTTL is the TTL set before the switch (lower_ttl_to); PreviousTTL when not lowered.
	LowTTL time.Duration
}

// LowerBy is the last moment to lower the TTL; ok is false when no lowering is planned.
func (t Timing) LowerBy() (time.Time, bool) {
	if t.LowTTL >= t.PreviousTTL {
		return time.Time{}, false
	}
	return t.StartsAt.Add(-t.PreviousTTL), true
}

// SwitchBy is the last moment to switch the records.
func (t Timing) SwitchBy() time.Time { return t.StartsAt.Add(-t.LowTTL) }

// Now is the record set as it is when a plan is made.
type Now struct {
	At time.Time
	// CurrentTTL is the TTL resolvers are given now.
	CurrentTTL time.Duration
	// LoweredAt is when the provider lowered the TTL (zero if it has not): resolvers that
	// fetched before then keep the PreviousTTL.
	LoweredAt time.Time
	// Switching: this plan changes the records (to new addresses).
	Switching bool
	// Switched: the records are already the new ones (an earlier apply switched them).
	Switched bool
	// Lowering: this plan lowers the TTL without changing the records.
	Lowering bool
	// Name and Zone for the messages.
	Name string
}

// Advice is a warning about the timing, with the moment it is about.
type Advice struct {
	Summary string
	Detail  string
}

// Check says, for a plan made at now, whether resolvers could still hold the old address when
// the event starts, and what to do. Nothing is said after the start or when the records are
// already switched and cached copies have expired.
func (t Timing) Check(now Now) []Advice {
	if t.StartsAt.IsZero() || !now.At.Before(t.StartsAt) {
		return nil
	}
	var out []Advice
	heldUntil := func(switchAt time.Time) time.Time {
		until := switchAt.Add(now.CurrentTTL)
		if !now.LoweredAt.IsZero() {
			if prev := now.LoweredAt.Add(t.PreviousTTL); prev.After(until) {
				until = prev
			}
		}
		return until
	}
	switch {
	case now.Switching:
		if until := heldUntil(now.At); until.After(t.StartsAt) {
			out = append(out, Advice{
				Summary: "Resolvers may still answer the old address when the event starts",
				Detail: fmt.Sprintf("Switching %s now: resolvers that fetched it before the switch keep the old records until %s, %s after the event starts at %s "+
					"(they were given a TTL of %s%s). %s",
					now.Name, stamp(until), human(until.Sub(t.StartsAt)), stamp(t.StartsAt), human(now.CurrentTTL), loweredNote(now, t),
					t.lowerAdvice()),
			})
		}
	case now.Switched:
	case now.CurrentTTL <= t.LowTTL && t.LowTTL < t.PreviousTTL:
		// Already lowered: in time only if the resolvers given the previous TTL let go by the start.
		if !now.LoweredAt.IsZero() {
			if until := now.LoweredAt.Add(t.PreviousTTL); until.After(t.StartsAt) {
				out = append(out, Advice{
					Summary: "The TTL was lowered too late for every resolver to follow the switch by the start",
					Detail: fmt.Sprintf("The TTL of %s was lowered at %s; resolvers that fetched it just before were given %s and keep the old records "+
						"until %s, %s after the event starts at %s, however early the records are switched.",
						now.Name, stamp(now.LoweredAt), human(t.PreviousTTL), stamp(until), human(until.Sub(t.StartsAt)), stamp(t.StartsAt)),
				})
			}
		}
	case now.CurrentTTL > t.LowTTL || t.LowTTL == t.PreviousTTL:
		// Not switched yet and the TTL not (yet) lowered: when must it be?
		deadline := t.StartsAt.Add(-now.CurrentTTL)
		if now.At.After(deadline) {
			out = append(out, Advice{
				Summary: "Too late for every resolver to follow the switch by the start",
				Detail: fmt.Sprintf("%s has a TTL of %s and the event starts at %s, %s from now: whatever is done now, resolvers that fetch the old "+
					"records before the switch keep them up to %s, past the start. The TTL had to be lowered by %s. Lower it now all the same "+
					"(lower_ttl_to) to shorten the tail, and switch as early as the new tier can take the traffic.",
					now.Name, human(now.CurrentTTL), stamp(t.StartsAt), human(t.StartsAt.Sub(now.At)), human(now.CurrentTTL), stamp(deadline)),
			})
		} else if t.LowTTL < now.CurrentTTL && !now.Lowering {
			out = append(out, Advice{
				Summary: "Lower the TTL before " + stamp(deadline),
				Detail: fmt.Sprintf("%s has a TTL of %s. For every resolver to answer the new address when the event starts at %s, "+
					"apply lower_ttl_to = %d by %s (the records stay as they are), then switch the records by %s.",
					now.Name, human(now.CurrentTTL), stamp(t.StartsAt), int(t.LowTTL/time.Second), stamp(deadline), stamp(t.SwitchBy())),
			})
		}
	}
	return out
}

func (t Timing) lowerAdvice() string {
	if by, ok := t.LowerBy(); ok {
		return fmt.Sprintf("To avoid it, the TTL had to be lowered by %s and the records switched by %s.", stamp(by), stamp(t.SwitchBy()))
	}
	return fmt.Sprintf("To avoid it, lower the TTL first (lower_ttl_to) at least %s before the start, then switch.", human(t.PreviousTTL))
}

func loweredNote(now Now, t Timing) string {
	if now.LoweredAt.IsZero() {
		return ""
	}
	return fmt.Sprintf("; those that fetched before the TTL was lowered at %s were given %s", stamp(now.LoweredAt), human(t.PreviousTTL))
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// human writes a duration to the second, without zero units: 1h, 5m, 1h30m, 45s.
func human(d time.Duration) string {
	d = d.Round(time.Second)
	s := d.String()
	for _, z := range []string{"m0s", "h0m"} {
		if len(s) > len(z) && s[len(s)-len(z):] == z {
			s = s[:len(s)-len(z)+1]
		}
	}
	return s
}
