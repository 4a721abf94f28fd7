package oktasim

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// The users of an org can number in the hundreds of thousands, so they are
// indexed twice beside the map: userIDs keeps the ids sorted, the order every
// user list pages in, and logins finds a user by login without a scan. A
// page then costs a binary search and the page itself, not a sort of the
// org. Every change to s.users or to a user's login goes through putUser,
// setProfile or dropUser so that the indexes never drift. Callers hold s.mu.

// putUser adds a user, or replaces the user with the same id.
func (s *Sim) putUser(u *user) {
	if old, ok := s.users[u.id]; ok {
		s.unindexLogin(old)
	} else {
		i, _ := slices.BinarySearch(s.userIDs, u.id)
		s.userIDs = slices.Insert(s.userIDs, i, u.id)
	}
	s.users[u.id] = u
	s.indexLogin(u)
}

// dropUser removes a user from the map and the indexes.
func (s *Sim) dropUser(u *user) {
	delete(s.users, u.id)
	if i, ok := slices.BinarySearch(s.userIDs, u.id); ok {
		s.userIDs = slices.Delete(s.userIDs, i, i+1)
	}
	s.unindexLogin(u)
}

// setProfile replaces a user's profile, and so perhaps its login.
func (s *Sim) setProfile(u *user, profile map[string]any) {
	s.unindexLogin(u)
	u.profile = profile
	s.indexLogin(u)
}

func (s *Sim) indexLogin(u *user) {
	if l := u.login(); l != "" {
		s.logins[strings.ToLower(l)] = u
	}
}

func (s *Sim) unindexLogin(u *user) {
	key := strings.ToLower(u.login())
	if s.logins[key] == u {
		delete(s.logins, key)
	}
}

// userByLogin finds a user by login, ignoring case as Okta does.
func (s *Sim) userByLogin(login string) *user {
	return s.logins[strings.ToLower(login)]
}

// scanUsers walks the users in id order from just after the cursor id and
// returns the first limit that keep accepts, with the cursor of the next
// page: the last id returned when a further user is accepted, else "". It
// stops at the first user past the page, so walking a whole list visits each
// user about once whatever the page size.
func (s *Sim) scanUsers(after string, limit int, keep func(*user) bool) ([]*user, string) {
	i := 0
	if after != "" {
		var found bool
		i, found = slices.BinarySearch(s.userIDs, after)
		if found {
			i++
		}
	}
	var page []*user
	for ; i < len(s.userIDs); i++ {
		u := s.users[s.userIDs[i]]
		if !keep(u) {
			continue
		}
		if len(page) == limit {
			return page, page[len(page)-1].id
		}
		page = append(page, u)
	}
	return page, ""
}

// ExtraUserID is the id of the i-th user added by WithExtraUsers. The ids
// sort in i order, between the seed users Bob and Carol.
func ExtraUserID(i int) string { return fmt.Sprintf("00uBULK%011dg7", i) }

// ExtraUserLogin is the login (and email) of the i-th user added by
// WithExtraUsers.
func ExtraUserLogin(i int) string { return fmt.Sprintf("bulk.user%06d@example.com", i) }

// addExtraUsers builds n ACTIVE users in one pass and sorts the id index
// once, rather than inserting one at a time, so that a 100,000-user org is
// ready in well under a second.
func (s *Sim) addExtraUsers(n int, now time.Time) {
	if n <= 0 {
		return
	}
	created := now.Add(-30 * 24 * time.Hour)
	everyone := s.everyone()
	s.userIDs = slices.Grow(s.userIDs, n)
	for i := range n {
		id, login := ExtraUserID(i), ExtraUserLogin(i)
		if _, taken := s.users[id]; taken {
			continue
		}
		u := &user{
			id: id, status: StatusActive, created: created, activated: created, statusChanged: created,
			lastUpdated: created, passwordChanged: created, hasPassword: true, provider: "OKTA",
			profile: map[string]any{
				"firstName": "Bulk", "lastName": fmt.Sprintf("User%06d", i), "email": login, "login": login,
			},
		}
		s.users[id] = u
		s.userIDs = append(s.userIDs, id)
		s.indexLogin(u)
		if everyone != nil {
			everyone.members[id] = true
		}
	}
	slices.Sort(s.userIDs)
}
