package proxy

import (
	"errors"
	"log/slog"
	"syscall"
	"time"
)

// defaultDiskMax caps the disk tier when its bound is left to edge.
const defaultDiskMax = 10 << 30

// sizeToVolume is the disk tier's bound when none is configured: half of
// the room its volume has for it (the space free now plus what the tier
// already holds), at most defaultDiskMax. The other half stays for what
// shares the volume and grows: the database, uploads, media in a local
// folder. A fixed 10 GiB on a 1 GB volume would fill it, and a full
// volume fails the database's writes.
func sizeToVolume(free, held int64) int64 {
	return max(min((free+held)/2, defaultDiskMax), 0)
}

// volumeFree reads a volume's free space; a test stands in a volume that
// filled up.
var volumeFree = freeBytes

// boundByVolume sets a disk tier's bound from its volume, once its index
// is rebuilt (what it already holds counts as room it has).
func (d *diskTier) boundByVolume() {
	held, _ := d.index.size()
	free, err := volumeFree(d.dir)
	if err != nil {
		d.log.Warn("disk cache: cannot size it to its volume; set EDGE_DISK_CACHE_BYTES", "err", err, "bound", int64(defaultDiskMax))
		d.index.bound(defaultDiskMax)
		return
	}
	bound := sizeToVolume(free, held)
	d.index.bound(bound)
	d.log.Info("disk cache sized to its volume", "bound", bound, "free", free, "held", held, "dir", d.dir,
		slog.String("override", "EDGE_DISK_CACHE_BYTES"))
}

// writeFailed lowers the bound below what the tier holds when a write
// failed because its volume ran out of space (something else filled it,
// or the bound configured is more than it has), deleting the least recent
// objects: the next fills find room, where a tier that still believed it
// had some would fail every one of them. The bound grows back as the
// volume frees (regrow). It says whether room was made,
// so the write may be tried again.
func (d *diskTier) writeFailed(err error) (roomMade bool) {
	if !errors.Is(err, syscall.ENOSPC) && !errors.Is(err, syscall.EDQUOT) {
		return false
	}
	held, _ := d.index.size()
	bound := held * 9 / 10
	if bound >= d.bound() {
		return false
	}
	d.index.bound(bound)
	d.regrowAt.Store(d.now().Add(regrowEvery).UnixNano())
	d.log.Warn("disk cache: its volume is full; bound lowered", "bound", bound, "held", held, "dir", d.dir)
	return true
}

// regrowEvery is how often a tier whose bound a full volume lowered reads
// the volume for room again.
const regrowEvery = 30 * time.Second

// regrow raises a bound that a full volume lowered once the volume has
// room again: a volume filled for a while (an upload, logs) would
// otherwise leave the tier small, or empty, until a restart. The tier
// takes what is free less a tenth, left to what shares the volume, up to
// the bound it began with. Fills call it as they commit; it reads the
// volume at most every regrowEvery.
func (d *diskTier) regrow() {
	next := d.regrowAt.Load()
	if next == 0 { // not lowered: every commit passes here
		return
	}
	now := d.now().UnixNano()
	if now < next || !d.regrowAt.CompareAndSwap(next, now+int64(regrowEvery)) {
		return
	}
	free, err := volumeFree(d.dir)
	if err != nil {
		return
	}
	held, _ := d.index.size()
	bound := min(d.ceiling, held+free-free/10)
	if bound <= d.bound() {
		return
	}
	if bound == d.ceiling {
		d.regrowAt.CompareAndSwap(now+int64(regrowEvery), 0)
	}
	d.index.bound(bound)
	d.log.Info("disk cache: its volume has room again; bound raised", "bound", bound, "free", free, "held", held, "dir", d.dir)
}
