//! Test harness for the managed virtio-blk driver (assembly `VirtioBlkHarness`, not
//! part of the driver): static methods with integer/pointer signatures that host
//! tests call through the JIT against ddk::testing's device model. Results are
//! non-negative on success; a negative value is minus a BlockError code, or an
//! init/probe failure code as documented per method.
using Ddk;
using VirtioBlk;

public static unsafe class Harness
{
    static VirtioBlkDevice s_blk;

    /// Probes and brings up the device at `bdf` without registering it. Returns the
    /// block count, -(1000 + DdkError) when PCI probing fails, -2 when the driver
    /// does not match, or -(3000 + 100 * InitKind + DdkError) when bring-up fails.
    public static long Up(uint bdf, ulong timeoutNs)
    {
        return UpWith(bdf, timeoutNs, DriverConfig.Default.ResetSpins);
    }

    /// As `Up`, with the reset spin budget too (a lying device may never
    /// finish a reset; the chaos test keeps that short).
    public static long UpWith(uint bdf, ulong timeoutNs, uint resetSpins)
    {
        PciAddress a;
        if (!PciAddress.TryFromAbiU32(bdf, out a)) return -1;
        PciDevice dev;
        Status s = PciDevice.Probe(a, out dev);
        if (s.IsError) return -1000 - (long)s.Code;
        if (!Driver.Matches(dev.VendorId, dev.DeviceId, dev.SubsystemId)) return -2;
        DriverConfig c = DriverConfig.Default;
        c.TimeoutNs = timeoutNs;
        c.ResetSpins = resetSpins;
        VirtioBlkDevice blk;
        InitResult r = VirtioBlkDevice.Create(dev, c, out blk);
        if (!r.IsOk) return -3000 - (long)r.Kind * 100 - (long)r.Platform;
        s_blk = blk;
        return (long)blk.BlockCount;
    }

    /// A polynomial checksum (×31 + byte) of `blocks` blocks read at `lba` into a managed array.
    public static long ReadSum(ulong lba, int blocks)
    {
        byte[] buf = new byte[blocks * (int)s_blk.BlockSize];
        BlockError e = s_blk.Read(lba, buf, 0, buf.Length);
        if (e != BlockError.None) return -(long)e;
        long sum = 0;
        for (int i = 0; i < buf.Length; i++) sum = sum * 31 + buf[i];
        return sum;
    }

    /// Writes bytes `(i * 31 + seed) mod 256` to `blocks` blocks at `lba`.
    public static long WritePattern(ulong lba, int blocks, int seed)
    {
        byte[] buf = new byte[blocks * (int)s_blk.BlockSize];
        for (int i = 0; i < buf.Length; i++) buf[i] = (byte)(i * 31 + seed);
        return -(long)s_blk.Write(lba, buf, 0, buf.Length);
    }

    /// Reads into caller memory through the IBlockDevice interface (what the ABI callbacks do).
    public static long ReadInto(ulong lba, byte* dst, ulong length)
    {
        IBlockDevice d = s_blk;
        return -(long)d.Read(lba, dst, length);
    }

    /// Writes caller memory through the IBlockDevice interface.
    public static long WriteFrom(ulong lba, byte* src, ulong length)
    {
        IBlockDevice d = s_blk;
        return -(long)d.Write(lba, src, length);
    }

    public static long Flush() { return -(long)s_blk.Flush(); }

    /// A batch through IBlockBatch (what `BlockDevices.ReadMany` calls): each
    /// request's Status is left in `requests`.
    public static long ReadMany(BlockRequest* requests, uint count)
    {
        IBlockBatch b = s_blk;
        return -(long)b.ReadMany(requests, count);
    }

    /// Queue size << 16 | chains in flight (none once any call returned).
    public static long QueueState()
    {
        return (long)s_blk.Info.QueueSize << 16 | (long)s_blk.InFlight;
    }

    /// legacy << 40 | queue size << 16 | max segments.
    public static long Info()
    {
        DeviceInfo i = s_blk.Info;
        return (i.Legacy ? 1L : 0L) << 40 | (long)i.QueueSize << 16 | i.MaxSegments;
    }

    public static long Features() { return (long)s_blk.Info.Features; }
    /// Bytes per LBA: 512, or the device's blk_size when it offers one (§5.2.4).
    public static long BlockSize() { return s_blk.BlockSize; }
    public static long BlockCount() { return (long)s_blk.BlockCount; }
    public static long Recoveries() { return s_blk.Recoveries; }
    public static long ReadOnly() { return s_blk.IsReadOnly ? 1 : 0; }

    /// Resets the device and frees its memory.
    public static long Down()
    {
        if (s_blk == null) return 0;
        s_blk.Shutdown();
        s_blk = null;
        return 0;
    }
}
