package scaling

import "time"

// NextLook is the wait before the next look at a transition that began elapsed ago, the last
// wait having been prev (0 before the second look). The second look comes after first; then the
// waits approach the end the transition is expected to take (expect, 0 when unknown): two thirds
// of the time remaining, down to a twentieth of expect (never less than first), so that the
// change is seen shortly after it happens; past that end, or with no expectation, each wait is
// half as long again as the last. No wait is longer than limit.
func NextLook(elapsed, prev, expect, first, limit time.Duration) time.Duration {
	if prev <= 0 {
		return min(first, limit)
	}
	d := prev + prev/2
	if expect > 0 {
		fine := max(first, expect/20)
		if rem := expect - elapsed; rem > 0 {
			d = max(fine, rem*2/3)
		} else {
			d = max(fine, d)
		}
	}
	return min(d, limit)
}
