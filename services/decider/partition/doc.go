// Package partition splits a key space among the live replicas of a service so that each key
// is handled by at most one replica at any instant. Keys hash into a fixed number of
// partitions; each partition is a lease, a key in a JetStream KV bucket that its holder renews
// by compare-and-set; rendezvous hashing over the live members' keys says who should hold
// which. It needs no TTL on the bucket and no coordinator, and knows nothing of what the keys
// are.
//
// Safety rests on two clocks running at the same rate, not on them agreeing: a holder trusts
// its lease for 3/4 TTL from the moment it sent the last successful renewal, and another
// replica takes a lease over only after it has seen the lease's revision unchanged for a full
// TTL, which starts after that send. A replica that leaves deletes its keys, so its
// partitions move at once; one that dies is replaced within about TTL plus one renewal period.
package partition
