// Package hooks receives Okta event hook deliveries and fans the events out
// to subscribers, so that agents are told what happened in the org instead
// of polling the System Log.
//
// The Receiver is an http.Handler for the URL registered with Okta. It
// answers the one-time verification GET, authenticates every request by the
// static header Okta is configured with (compared in constant time; no
// secret, no service), validates the envelope of each POST and publishes its
// events to a Hub. It never waits on a subscriber: Okta gives an endpoint
// three seconds and retries a failed delivery once, so the receiver
// validates, publishes without blocking and answers. A request that is
// wrong (bad secret, content type, size or JSON) gets a 4xx, which Okta does
// not retry. Because Okta retries, the same event can arrive twice; events
// are de-duplicated by their uuid in a bounded window (a capacity and an
// age, oldest forgotten first) and duplicates are counted, not published.
//
// The Hub numbers each event with a sequence number, keeps the most recent
// ones in a short replay ring and queues them to every subscriber whose
// filter matches. Each subscriber has a bounded buffer: when it is full, the
// subscriber loses events instead of slowing the publisher or the others,
// and is told so by a Gap message that says how many it missed. A sequence
// number is also the resume cursor: a subscriber that reconnects with the
// last number it saw is first given the events still in the ring, after a
// Gap when some are no longer there. Sequence numbers start at the hub's
// start time in microseconds, so they keep growing across restarts and a
// cursor from before a restart is recognised (its Gap is Unknown).
//
// The hub has no goroutines of its own: Publish runs on the receiver's
// request and Next on the subscriber's, so nothing leaks once a
// subscription or the hub is closed. Policy checks per event and the gRPC
// stream are built on top of a Subscription by the gateway; this package
// never calls Okta.
//
// A fleet of sidecars shares its events through a Stream in Redis
// (WithStream): the receiver de-duplicates by uuid and appends in one
// script, and each replica's Stream.Run relays the stream to its hub, which
// then numbers nothing itself: the numbers are the fleet's, dense, so
// cursors, replay and gaps mean the same on every replica. A delivery the
// store cannot take is answered 503, so that Okta retries it.
//
// The Receiver sets no timeouts of its own: serve it from an http.Server
// with ReadHeaderTimeout and ReadTimeout set (a few seconds is plenty, Okta
// itself gives up after three).
package hooks
