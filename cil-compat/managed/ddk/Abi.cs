//! Managed DDK, raw layer: the DDK ABI table (ddk/src/abi.rs, `ddk_abi!`) as
//! InternalCall imports. The runtime binds each `Ddk.Abi::<name>` to the entry of
//! the same name in `ddk::abi::ENTRIES` and calls it with the native (SysV x86-64)
//! convention. Method names are the entry names exactly; parameters mirror the Rust
//! signature one-to-one:
//!   u8/u16/u32/u64 -> byte/ushort/uint/ulong      usize -> UIntPtr (native unsigned int)
//!   PciAddress     -> Ddk.PciAddress by value (3 bytes, one INTEGER register)
//!   *mut T (an out-pointer for one result)        -> `out T` (a managed pointer to the
//!                                                    caller's local = a plain address)
//!   *const u8 / *mut u8 (a buffer)                -> byte*
//!   *const BlockDeviceDesc                        -> BlockDeviceDesc*
//!   *mut PciDeviceInfo (one struct result)        -> `out PciDeviceInfo`
//! Every entry but `log`/`debug_marker` returns a u32 status: 0 or a DdkError code.
//! No floats cross. `out` arguments must be locals (stack addresses): they stay put
//! for the duration of the call even under a moving collector.
using System;
using System.Runtime.CompilerServices;

namespace Ddk
{
    public static unsafe class Abi
    {
        /// Version of the table these imports were written against (DDK_ABI_VERSION).
        public const uint Version = 3;

        // log(level: u32, msg: *const u8, len: usize) -> (): UTF-8 bytes, level 1..5.
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void log(uint level, byte* msg, UIntPtr len);

        // debug_marker(code: u32) -> ()
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void debug_marker(uint code);

        // time_ns(out: *mut u64) -> u32: monotonic ns; Unsupported without a clock.
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern uint time_ns(out ulong now);

        // pci_read8(addr: PciAddress, offset: u16, out: *mut u8) -> u32
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern uint pci_read8(PciAddress addr, ushort offset, out byte value);

        // pci_read16(addr: PciAddress, offset: u16, out: *mut u16) -> u32
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern uint pci_read16(PciAddress addr, ushort offset, out ushort value);

        // pci_read32(addr: PciAddress, offset: u16, out: *mut u32) -> u32
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern uint pci_read32(PciAddress addr, ushort offset, out uint value);

        // pci_write8(addr: PciAddress, offset: u16, value: u8) -> u32
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern uint pci_write8(PciAddress addr, ushort offset, byte value);

        // pci_write16(addr: PciAddress, offset: u16, value: u16) -> u32
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern uint pci_write16(PciAddress addr, ushort offset, ushort value);

        // pci_write32(addr: PciAddress, offset: u16, value: u32) -> u32
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern uint pci_write32(PciAddress addr, ushort offset, uint value);

        // pci_enable_bus_master(addr: PciAddress) -> u32
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern uint pci_enable_bus_master(PciAddress addr);

        // bar_map(addr: PciAddress, bar: u32, out_handle: *mut u64, out_len: *mut u64) -> u32
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern uint bar_map(PciAddress addr, uint bar, out ulong handle, out ulong length);

        // bar_unmap(handle: u64) -> u32
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern uint bar_unmap(ulong handle);

        // mmio_read8(handle: u64, offset: u64, out: *mut u8) -> u32
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern uint mmio_read8(ulong handle, ulong offset, out byte value);

        // mmio_read16(handle: u64, offset: u64, out: *mut u16) -> u32
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern uint mmio_read16(ulong handle, ulong offset, out ushort value);

        // mmio_read32(handle: u64, offset: u64, out: *mut u32) -> u32
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern uint mmio_read32(ulong handle, ulong offset, out uint value);

        // mmio_read64(handle: u64, offset: u64, out: *mut u64) -> u32
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern uint mmio_read64(ulong handle, ulong offset, out ulong value);

        // mmio_write8(handle: u64, offset: u64, value: u8) -> u32
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern uint mmio_write8(ulong handle, ulong offset, byte value);

        // mmio_write16(handle: u64, offset: u64, value: u16) -> u32
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern uint mmio_write16(ulong handle, ulong offset, ushort value);

        // mmio_write32(handle: u64, offset: u64, value: u32) -> u32
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern uint mmio_write32(ulong handle, ulong offset, uint value);

        // mmio_write64(handle: u64, offset: u64, value: u64) -> u32
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern uint mmio_write64(ulong handle, ulong offset, ulong value);

        // port_read8(port: u16, out: *mut u8) -> u32
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern uint port_read8(ushort port, out byte value);

        // port_read16(port: u16, out: *mut u16) -> u32
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern uint port_read16(ushort port, out ushort value);

        // port_read32(port: u16, out: *mut u32) -> u32
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern uint port_read32(ushort port, out uint value);

        // port_write8(port: u16, value: u8) -> u32
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern uint port_write8(ushort port, byte value);

        // port_write16(port: u16, value: u16) -> u32
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern uint port_write16(ushort port, ushort value);

        // port_write32(port: u16, value: u32) -> u32
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern uint port_write32(ushort port, uint value);

        // dma_alloc(size: u64, align: u64, out_phys: *mut u64, out_virt: *mut *mut u8) -> u32
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern uint dma_alloc(ulong size, ulong align, out ulong phys, out byte* virt);

        // dma_free(virt: *mut u8, phys: u64, size: u64) -> u32
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern uint dma_free(byte* virt, ulong phys, ulong size);

        // virt_to_phys(virt: *const u8, len: usize, out_phys: *mut u64, out_contiguous: *mut usize) -> u32
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern uint virt_to_phys(byte* virt, UIntPtr len, out ulong phys, out UIntPtr contiguous);

        // block_register(desc: *const BlockDeviceDesc, out_id: *mut u32) -> u32
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern uint block_register(BlockDeviceDesc* desc, out uint id);

        // pci_device_info(addr: PciAddress, out: *mut PciDeviceInfo) -> u32: the platform's
        // enumeration of `addr` (BARs sized once, at enumeration); NoDevice if not enumerated.
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern uint pci_device_info(PciAddress addr, out PciDeviceInfo info);

        // irq_setup(addr: PciAddress, source: u32, out_handle: *mut u64) -> u32: `source` an
        // MSI-X table entry or 0xffffffff (INTx); Unsupported means: poll (ABI v3).
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern uint irq_setup(PciAddress addr, uint source, out ulong handle);

        // irq_wait(handle: u64, timeout_ns: u64, out_fired: *mut u32) -> u32: halts until the
        // interrupt came (fired = 1) or the timeout passed (fired = 0).
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern uint irq_wait(ulong handle, ulong timeoutNs, out uint fired);

        // irq_release(handle: u64) -> u32
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern uint irq_release(ulong handle);
    }

    /// Services the managed runtime itself provides (not DDK ABI entries). Each is
    /// bound by name, `Ddk.Runtime::<name>`, to native code; see
    /// drivers/virtio-blk/README.md for their exact contracts.
    public static class Runtime
    {
        /// A full memory fence (x86 `mfence`): orders earlier stores before later
        /// loads, which TSO alone does not (virtio 1.2 §2.7.13.4).
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void MemoryBarrier();

        /// The native entry point of a delegate over a *static* method whose
        /// signature is all integers/pointers (then the managed convention is plain
        /// SysV): the `ldftn` value the delegate was built from. Zero for null or
        /// instance delegates. The caller keeps the delegate alive.
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern IntPtr FunctionPointer(Delegate callback);
    }
}
