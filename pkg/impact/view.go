package impact

import (
	"strconv"
	"time"
)

// view is what a replica knows of one agent's buckets in the shared store:
// the buckets the store last answered, and the calls this replica counted
// since. It is counted exactly as the store's script counts, so that the
// two agree whenever no other replica counted a call of the agent.
type view struct {
	minutes map[int64]int // unix minute → calls
	hours   map[int64]int // unix hour → calls
}

// counts sums the buckets in both windows, as the script does.
func (v *view) counts(now time.Time) Counts {
	minute, hour := now.Unix()/60, now.Unix()/3600
	var out Counts
	for at, n := range v.minutes {
		if at >= minute-60 && at <= minute {
			out.Hour += n
		}
	}
	for at, n := range v.hours {
		if at >= hour-24 && at <= hour {
			out.Day += n
		}
	}
	return out
}

// add counts one call at now, and forgets buckets out of both windows.
func (v *view) add(now time.Time) {
	minute, hour := now.Unix()/60, now.Unix()/3600
	if v.minutes == nil {
		v.minutes, v.hours = map[int64]int{}, map[int64]int{}
	}
	v.minutes[minute]++
	v.hours[hour]++
	for at := range v.minutes {
		if at < minute-60 {
			delete(v.minutes, at)
		}
	}
	for at := range v.hours {
		if at < hour-24 {
			delete(v.hours, at)
		}
	}
}

// set replaces the view with the store's buckets (field m<minute> or
// h<hour> → calls). Bollard writes no other field; one it cannot read is
// left out here, and makes the script fail, so that the call is refused.
func (v *view) set(buckets map[string]int) {
	v.minutes, v.hours = make(map[int64]int, len(buckets)), make(map[int64]int, 25)
	for f, n := range buckets {
		if len(f) < 2 {
			continue
		}
		at, err := strconv.ParseInt(f[1:], 10, 64)
		if err != nil {
			continue
		}
		switch f[0] {
		case 'm':
			v.minutes[at] += n
		case 'h':
			v.hours[at] += n
		}
	}
}
