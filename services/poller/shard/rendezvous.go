package shard

// Owner returns the member that owns key among members: the one whose hash with key is the
// highest (rendezvous hashing). Every replica that sees the same members picks the same owner,
// and removing a member moves only the keys it owned. It returns "" when members is empty.
func Owner(members []string, key string) string {
	var best string
	var bestScore uint64
	for _, m := range members {
		if s := score(m, key); best == "" || s > bestScore || (s == bestScore && m < best) {
			best, bestScore = m, s
		}
	}
	return best
}

// score hashes member and key together with FNV-1a (inline: no allocation per call), then a
// splitmix64 finaliser, because FNV alone clusters on inputs that differ only at the end.
func score(member, key string) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for i := 0; i < len(member); i++ {
		h = (h ^ uint64(member[i])) * prime
	}
	h *= prime // a zero byte between the two, so ("ab","c") and ("a","bc") differ
	for i := 0; i < len(key); i++ {
		h = (h ^ uint64(key[i])) * prime
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}
