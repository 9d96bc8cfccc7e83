//! Managed DDK: the block-device contract (ddk/src/block/mod.rs `BlockDevice`) and
//! registration through the ABI's `block_register` (ddk/src/abi.rs
//! `BlockDeviceDesc`): the descriptor's callbacks are static methods of this class
//! exported as native function pointers, and its context is a registry slot number,
//! never an object address (objects may move; a slot does not).
//! Batches (`BlockDevice::read_many`) enter through `BlockDevices.ReadMany`,
//! which the hosting layer finds by name and calls directly; a driver that
//! implements `IBlockBatch` keeps the batch in flight, any other device is
//! read one request at a time.
using System;
using System.Runtime.InteropServices;

namespace Ddk
{
    /// A device of fixed-size blocks. Buffers are whole blocks; `lba` counts blocks.
    public unsafe interface IBlockDevice
    {
        /// Bytes per block (a power of two).
        uint BlockSize { get; }
        ulong BlockCount { get; }
        bool IsReadOnly { get; }
        /// Reads `length / BlockSize` blocks starting at `lba` into `buffer`.
        BlockError Read(ulong lba, byte* buffer, ulong length);
        /// Writes `length / BlockSize` blocks starting at `lba` from `buffer`.
        BlockError Write(ulong lba, byte* buffer, ulong length);
        /// Makes every completed write durable.
        BlockError Flush();
    }

    /// One read of a batch: ddk::abi::BlockReadRequest, 32 bytes, field for field.
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct BlockRequest
    {
        public ulong Lba;
        public byte* Buffer;
        /// Bytes, whole blocks.
        public ulong Length;
        /// Written by the driver: 0 or the BlockError of this request alone.
        public uint Status;
        public uint Reserved;
    }

    /// Optional for block devices: several reads in flight at once.
    public unsafe interface IBlockBatch
    {
        /// Reads `requests[0..count)`, setting every request's Status. Returns
        /// an error that stopped the batch (the device timed out or broke the
        /// protocol: every request not completed carries it too), else the
        /// first request's error in order, else None.
        BlockError ReadMany(BlockRequest* requests, uint count);
    }

    /// ddk::abi::BlockDeviceDesc, 72 bytes, field for field.
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct BlockDeviceDesc
    {
        /// sizeof(BlockDeviceDesc) of the producer (72).
        public uint Size;
        public uint BlockSize;
        public ulong BlockCount;
        /// Non-zero: writes and flushes are refused.
        public uint ReadOnly;
        public uint Reserved;
        /// UTF-8 name; the platform copies it during registration.
        public byte* Name;
        public UIntPtr NameLength;
        public IntPtr Context;
        /// `extern "C" fn(ctx, lba: u64, buf: *mut u8, len: usize) -> u32`
        public IntPtr Read;
        /// `extern "C" fn(ctx, lba: u64, buf: *const u8, len: usize) -> u32`
        public IntPtr Write;
        /// `extern "C" fn(ctx) -> u32`
        public IntPtr Flush;

        public const uint ExpectedSize = 72;
    }

    public unsafe delegate uint BlockReadCallback(IntPtr context, ulong lba, byte* buffer, UIntPtr length);
    public unsafe delegate uint BlockWriteCallback(IntPtr context, ulong lba, byte* buffer, UIntPtr length);
    public delegate uint BlockFlushCallback(IntPtr context);

    public static unsafe class BlockDevices
    {
        public const int MaxDevices = 16;

        static readonly IBlockDevice[] s_devices = new IBlockDevice[MaxDevices];
        // The delegates stay referenced from statics for as long as the platform
        // may call through their function pointers.
        static BlockReadCallback s_read;
        static BlockWriteCallback s_write;
        static BlockFlushCallback s_flush;

        /// Registers `device` with the platform under `name`; its platform id goes to `id`.
        public static Status Register(IBlockDevice device, string name, out uint id)
        {
            id = 0;
            if (device == null) return Status.Of(DdkError.InvalidArgument);
            uint bs = device.BlockSize;
            if (bs == 0 || (bs & (bs - 1)) != 0) return Status.Of(DdkError.InvalidArgument);
            int slot = -1;
            for (int i = 0; i < s_devices.Length; i++)
            {
                if (s_devices[i] == null)
                {
                    slot = i;
                    break;
                }
            }
            if (slot < 0) return Status.Of(DdkError.NoMemory);
            if (s_read == null)
            {
                s_read = new BlockReadCallback(NativeRead);
                s_write = new BlockWriteCallback(NativeWrite);
                s_flush = new BlockFlushCallback(NativeFlush);
            }
            BlockDeviceDesc desc = new BlockDeviceDesc();
            desc.Read = Runtime.FunctionPointer(s_read);
            desc.Write = Runtime.FunctionPointer(s_write);
            desc.Flush = Runtime.FunctionPointer(s_flush);
            if (desc.Read == IntPtr.Zero || desc.Write == IntPtr.Zero || desc.Flush == IntPtr.Zero)
                return Status.Of(DdkError.Unsupported);

            LogLine utf8 = new LogLine();
            utf8.Append(name);
            byte* nameBytes = stackalloc byte[LogLine.Capacity];
            int nameLen = utf8.CopyTo(nameBytes, LogLine.Capacity);

            desc.Size = (uint)sizeof(BlockDeviceDesc);
            desc.BlockSize = bs;
            desc.BlockCount = device.BlockCount;
            desc.ReadOnly = device.IsReadOnly ? 1u : 0u;
            desc.Reserved = 0;
            desc.Name = nameBytes;
            desc.NameLength = (UIntPtr)(uint)nameLen;
            desc.Context = new IntPtr(slot + 1);

            s_devices[slot] = device;
            Status s = Status.FromRaw(Abi.block_register(&desc, out id));
            if (s.IsError) s_devices[slot] = null;
            return s;
        }

        /// The device behind a descriptor context, or null.
        public static IBlockDevice Lookup(IntPtr context)
        {
            long slot = context.ToInt64() - 1;
            if (slot < 0 || slot >= MaxDevices) return null;
            return s_devices[(int)slot];
        }

        static uint NativeRead(IntPtr context, ulong lba, byte* buffer, UIntPtr length)
        {
            IBlockDevice d = Lookup(context);
            if (d == null) return (uint)BlockError.NotReady;
            if (buffer == null) return (uint)BlockError.BadBuffer;
            return (uint)d.Read(lba, buffer, length.ToUInt64());
        }

        /// The batch entry the hosting layer calls (`ManagedBlockDevice::read_many`):
        /// through IBlockBatch when the device has it, else one Read per request.
        /// 0, or the error as IBlockBatch.ReadMany returns it.
        public static uint ReadMany(IntPtr context, BlockRequest* requests, uint count)
        {
            IBlockDevice d = Lookup(context);
            if (d == null) return (uint)BlockError.NotReady;
            if (count == 0) return 0;
            if (requests == null) return (uint)BlockError.BadBuffer;
            IBlockBatch batch = d as IBlockBatch;
            if (batch != null) return (uint)batch.ReadMany(requests, count);
            BlockError first = BlockError.None;
            for (uint i = 0; i < count; i++)
            {
                BlockRequest* r = requests + i;
                BlockError e = r->Buffer == null ? BlockError.BadBuffer : d.Read(r->Lba, r->Buffer, r->Length);
                r->Status = (uint)e;
                if (e != BlockError.None && first == BlockError.None) first = e;
            }
            return (uint)first;
        }

        static uint NativeWrite(IntPtr context, ulong lba, byte* buffer, UIntPtr length)
        {
            IBlockDevice d = Lookup(context);
            if (d == null) return (uint)BlockError.NotReady;
            if (buffer == null) return (uint)BlockError.BadBuffer;
            return (uint)d.Write(lba, buffer, length.ToUInt64());
        }

        /// Unbinds the device behind `context` (what the platform calls before it
        /// hands the function to another driver): the slot is freed and the
        /// device disposed if it is IDisposable (a driver resets its device and
        /// frees its memory there). 0, or a DdkError code.
        public static uint Unregister(IntPtr context)
        {
            long slot = context.ToInt64() - 1;
            if (slot < 0 || slot >= MaxDevices) return (uint)DdkError.InvalidArgument;
            IBlockDevice d = s_devices[(int)slot];
            if (d == null) return (uint)DdkError.BadHandle;
            s_devices[(int)slot] = null;
            IDisposable disposable = d as IDisposable;
            if (disposable != null) disposable.Dispose();
            return 0;
        }

        /// Frees the slot of a device whose driver failed and was stopped by
        /// the platform (which already released its memory and mappings):
        /// nothing of the device is called. 0, or a DdkError code.
        public static uint Forget(IntPtr context)
        {
            long slot = context.ToInt64() - 1;
            if (slot < 0 || slot >= MaxDevices) return (uint)DdkError.InvalidArgument;
            if (s_devices[(int)slot] == null) return (uint)DdkError.BadHandle;
            s_devices[(int)slot] = null;
            return 0;
        }

        static uint NativeFlush(IntPtr context)
        {
            IBlockDevice d = Lookup(context);
            if (d == null) return (uint)BlockError.NotReady;
            return (uint)d.Flush();
        }
    }
}
