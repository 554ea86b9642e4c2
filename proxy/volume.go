package proxy

import (
	"errors"
	"log/slog"
	"syscall"
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
// had some would fail every one of them. It says whether room was made,
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
	d.log.Warn("disk cache: its volume is full; bound lowered", "bound", bound, "held", held, "dir", d.dir)
	return true
}
