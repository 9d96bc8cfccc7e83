//! Managed DDK: a bounds-checked window of a mapped BAR (ddk/src/mmio.rs `Region`):
//! memory or I/O ports, both through the ABI's `mmio_*` entries. Every access is
//! checked here against the window and again by the platform against the mapping.
namespace Ddk
{
    /// A window `[Base, Base + Length)` of the mapping `Handle`. Cheap to copy; sub-windows
    /// share the mapping, which lives until `Unmap` (drivers keep theirs for life). 24 bytes.
    public struct MmioRegion
    {
        /// Bit 63 of a handle marks an I/O-port BAR (ddk::abi::IO_HANDLE_TAG).
        public const ulong IoHandleTag = 1UL << 63;

        readonly ulong _handle;
        readonly ulong _base;
        readonly ulong _length;

        public MmioRegion(ulong handle, ulong windowBase, ulong length)
        {
            _handle = handle;
            _base = windowBase;
            _length = length;
        }

        public ulong Handle { get { return _handle; } }
        public ulong Length { get { return _length; } }
        public bool IsEmpty { get { return _length == 0; } }
        /// Accesses are port I/O (an I/O BAR).
        public bool IsIo { get { return (_handle & IoHandleTag) != 0; } }
        public bool IsMapped { get { return _handle != 0 || _length != 0; } }

        /// A sub-window; `OutOfBounds` if it does not fit.
        public Status Subregion(ulong offset, ulong length, out MmioRegion region)
        {
            region = new MmioRegion();
            ulong end = offset + length;
            if (end < offset || end > _length) return Status.Of(DdkError.OutOfBounds);
            region = new MmioRegion(_handle, _base + offset, length);
            return Status.Ok;
        }

        /// Where an access of `width` bytes at `offset` goes: the mapping's
        /// handle and the offset in the mapping (for a driver that writes one
        /// register often through `Abi` itself); false outside the window.
        public bool Locate(ulong offset, uint width, out ulong handle, out ulong absolute)
        {
            handle = _handle;
            return Check(offset, width, out absolute);
        }

        bool Check(ulong offset, uint width, out ulong absolute)
        {
            ulong end = offset + width;
            absolute = _base + offset;
            return end >= offset && end <= _length;
        }

        public Status Read8(ulong offset, out byte value)
        {
            ulong at;
            value = 0;
            if (!Check(offset, 1, out at)) return Status.Of(DdkError.OutOfBounds);
            return Status.FromRaw(Abi.mmio_read8(_handle, at, out value));
        }

        public Status Read16(ulong offset, out ushort value)
        {
            ulong at;
            value = 0;
            if (!Check(offset, 2, out at)) return Status.Of(DdkError.OutOfBounds);
            return Status.FromRaw(Abi.mmio_read16(_handle, at, out value));
        }

        public Status Read32(ulong offset, out uint value)
        {
            ulong at;
            value = 0;
            if (!Check(offset, 4, out at)) return Status.Of(DdkError.OutOfBounds);
            return Status.FromRaw(Abi.mmio_read32(_handle, at, out value));
        }

        public Status Read64(ulong offset, out ulong value)
        {
            ulong at;
            value = 0;
            if (!Check(offset, 8, out at)) return Status.Of(DdkError.OutOfBounds);
            return Status.FromRaw(Abi.mmio_read64(_handle, at, out value));
        }

        public Status Write8(ulong offset, byte value)
        {
            ulong at;
            if (!Check(offset, 1, out at)) return Status.Of(DdkError.OutOfBounds);
            return Status.FromRaw(Abi.mmio_write8(_handle, at, value));
        }

        public Status Write16(ulong offset, ushort value)
        {
            ulong at;
            if (!Check(offset, 2, out at)) return Status.Of(DdkError.OutOfBounds);
            return Status.FromRaw(Abi.mmio_write16(_handle, at, value));
        }

        public Status Write32(ulong offset, uint value)
        {
            ulong at;
            if (!Check(offset, 4, out at)) return Status.Of(DdkError.OutOfBounds);
            return Status.FromRaw(Abi.mmio_write32(_handle, at, value));
        }

        public Status Write64(ulong offset, ulong value)
        {
            ulong at;
            if (!Check(offset, 8, out at)) return Status.Of(DdkError.OutOfBounds);
            return Status.FromRaw(Abi.mmio_write64(_handle, at, value));
        }

        /// Releases the whole mapping (every window of it becomes invalid).
        public Status Unmap() { return Status.FromRaw(Abi.bar_unmap(_handle)); }
    }
}
