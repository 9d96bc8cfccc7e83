//! Managed DDK: DMA memory (ddk/src/dma.rs `Dma`): zeroed, physically contiguous
//! buffers from `dma_alloc`, freed by `Dispose`, with bounds-checked little-endian
//! accessors; and `Memory.VirtToPhys` for zero-copy DMA into caller buffers.
using System;

namespace Ddk
{
    public sealed unsafe class DmaBuffer : IDisposable
    {
        byte* _virt;
        ulong _phys;
        ulong _size;

        DmaBuffer(byte* virt, ulong phys, ulong size)
        {
            _virt = virt;
            _phys = phys;
            _size = size;
        }

        /// Allocates `size` bytes rounded up to whole 4 KiB pages, aligned to `align`
        /// (a power of two; at least 4096).
        public static Status Allocate(ulong size, ulong align, out DmaBuffer buffer)
        {
            buffer = null;
            if (size == 0 || align == 0 || (align & (align - 1)) != 0) return Status.Of(DdkError.InvalidArgument);
            ulong rounded = (size + 4095) & ~4095UL;
            if (rounded < size) return Status.Of(DdkError.NoMemory);
            if (align < 4096) align = 4096;
            ulong phys;
            byte* virt;
            Status s = Status.FromRaw(Abi.dma_alloc(rounded, align, out phys, out virt));
            if (s.IsError) return s;
            if (virt == null) return Status.Of(DdkError.Failed);
            buffer = new DmaBuffer(virt, phys, rounded);
            return Status.Ok;
        }

        public ulong PhysicalAddress { get { return _phys; } }
        public byte* Pointer { get { return _virt; } }
        public ulong Length { get { return _size; } }
        public bool IsDisposed { get { return _virt == null; } }

        /// Device address of byte `offset`, if inside the buffer.
        public bool PhysAt(ulong offset, out ulong phys)
        {
            phys = _phys + offset;
            return _virt != null && offset < _size;
        }

        bool Fits(ulong offset, ulong width)
        {
            ulong end = offset + width;
            return _virt != null && end >= offset && end <= _size;
        }

        public Status Read8(ulong offset, out byte v)
        {
            v = 0;
            if (!Fits(offset, 1)) return Status.Of(DdkError.OutOfBounds);
            v = _virt[offset];
            return Status.Ok;
        }

        public Status Read16(ulong offset, out ushort v)
        {
            v = 0;
            if (!Fits(offset, 2)) return Status.Of(DdkError.OutOfBounds);
            v = *(ushort*)(_virt + offset);
            return Status.Ok;
        }

        public Status Read32(ulong offset, out uint v)
        {
            v = 0;
            if (!Fits(offset, 4)) return Status.Of(DdkError.OutOfBounds);
            v = *(uint*)(_virt + offset);
            return Status.Ok;
        }

        public Status Read64(ulong offset, out ulong v)
        {
            v = 0;
            if (!Fits(offset, 8)) return Status.Of(DdkError.OutOfBounds);
            v = *(ulong*)(_virt + offset);
            return Status.Ok;
        }

        public Status Write8(ulong offset, byte v)
        {
            if (!Fits(offset, 1)) return Status.Of(DdkError.OutOfBounds);
            _virt[offset] = v;
            return Status.Ok;
        }

        public Status Write16(ulong offset, ushort v)
        {
            if (!Fits(offset, 2)) return Status.Of(DdkError.OutOfBounds);
            *(ushort*)(_virt + offset) = v;
            return Status.Ok;
        }

        public Status Write32(ulong offset, uint v)
        {
            if (!Fits(offset, 4)) return Status.Of(DdkError.OutOfBounds);
            *(uint*)(_virt + offset) = v;
            return Status.Ok;
        }

        public Status Write64(ulong offset, ulong v)
        {
            if (!Fits(offset, 8)) return Status.Of(DdkError.OutOfBounds);
            *(ulong*)(_virt + offset) = v;
            return Status.Ok;
        }

        /// Copies `count` bytes from `src` into the buffer at `offset` (bounds-checked).
        public Status CopyIn(ulong offset, byte* src, ulong count)
        {
            if (!Fits(offset, count)) return Status.Of(DdkError.OutOfBounds);
            Memory.Copy(_virt + offset, src, count);
            return Status.Ok;
        }

        /// Copies `count` bytes from the buffer at `offset` to `dst` (bounds-checked).
        public Status CopyOut(ulong offset, byte* dst, ulong count)
        {
            if (!Fits(offset, count)) return Status.Of(DdkError.OutOfBounds);
            Memory.Copy(dst, _virt + offset, count);
            return Status.Ok;
        }

        /// Frees the block. Owners stop the device from using it first.
        public void Dispose()
        {
            if (_virt == null) return;
            Abi.dma_free(_virt, _phys, _size);
            _virt = null;
            _phys = 0;
            _size = 0;
        }

        /// Forgets the block without freeing it: for memory a device that would not
        /// reset may still write (never reuse it).
        public void Leak()
        {
            _virt = null;
            _size = 0;
        }
    }

    public static unsafe class Memory
    {
        /// Physical address of `virt` and how many bytes from there (<= `length`) are
        /// physically contiguous; `Unsupported` when the platform cannot translate.
        public static Status VirtToPhys(byte* virt, ulong length, out ulong phys, out ulong contiguous)
        {
            UIntPtr contig;
            contiguous = 0;
            Status s = Status.FromRaw(Abi.virt_to_phys(virt, (UIntPtr)length, out phys, out contig));
            if (s.IsError) return s;
            contiguous = (ulong)contig;
            if (contiguous == 0 || contiguous > length) return Status.Of(DdkError.Failed);
            return s;
        }

        public static void Copy(byte* dst, byte* src, ulong count)
        {
            ulong i = 0;
            for (; i + 8 <= count; i += 8) *(ulong*)(dst + i) = *(ulong*)(src + i);
            for (; i < count; i++) dst[i] = src[i];
        }

        public static void Zero(byte* dst, ulong count)
        {
            for (ulong i = 0; i < count; i++) dst[i] = 0;
        }
    }
}
