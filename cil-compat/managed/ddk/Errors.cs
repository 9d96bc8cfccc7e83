//! Managed DDK: the status codes that cross the DDK ABI (ddk/src/abi.rs `DdkError`,
//! ddk/src/block/mod.rs `BlockError`, `LogLevel`) with the same numbers, and `Status`,
//! the small value every typed wrapper returns (0 = ok, as on the wire).
namespace Ddk
{
    /// ddk::abi::DdkError; `None` (0) is success and not an error.
    public enum DdkError : uint
    {
        None = 0,
        InvalidArgument = 1,
        OutOfBounds = 2,
        Misaligned = 3,
        NoDevice = 4,
        NoMemory = 5,
        Unsupported = 6,
        BadHandle = 7,
        Failed = 8,
    }

    /// ddk::block::BlockError; `None` (0) is success.
    public enum BlockError : uint
    {
        None = 0,
        Io = 1,
        Unsupported = 2,
        ReadOnly = 3,
        OutOfRange = 4,
        BadBuffer = 5,
        Timeout = 6,
        DeviceMisbehaved = 7,
        NoMemory = 8,
        NotReady = 9,
        DriverFailed = 10,
    }

    /// ddk::abi::LogLevel.
    public enum LogLevel : uint
    {
        Error = 1,
        Warn = 2,
        Info = 3,
        Debug = 4,
        Trace = 5,
    }

    /// The outcome of one DDK call: a DdkError code, 0 for success.
    public struct Status
    {
        readonly uint _code;

        Status(uint code) { _code = code; }

        public static Status Ok { get { return new Status(0); } }

        /// A status from the wire; unknown non-zero codes become `Failed` (as `DdkError::check`).
        public static Status FromRaw(uint code)
        {
            return new Status(code <= (uint)DdkError.Failed ? code : (uint)DdkError.Failed);
        }

        public static Status Of(DdkError error) { return new Status((uint)error); }

        public bool IsOk { get { return _code == 0; } }
        public bool IsError { get { return _code != 0; } }
        public DdkError Error { get { return (DdkError)_code; } }
        public uint Code { get { return _code; } }

        public static string Describe(DdkError e)
        {
            switch (e)
            {
                case DdkError.None: return "ok";
                case DdkError.InvalidArgument: return "invalid argument";
                case DdkError.OutOfBounds: return "access out of bounds";
                case DdkError.Misaligned: return "misaligned access";
                case DdkError.NoDevice: return "no such device or BAR";
                case DdkError.NoMemory: return "out of memory";
                case DdkError.Unsupported: return "not supported by this platform";
                case DdkError.BadHandle: return "unknown handle";
                default: return "platform failure";
            }
        }

        public override string ToString() { return Describe(Error); }
    }

    public static class BlockErrors
    {
        /// Same texts as ddk::block::BlockError's Display.
        public static string Describe(BlockError e)
        {
            switch (e)
            {
                case BlockError.None: return "ok";
                case BlockError.Io: return "device I/O error";
                case BlockError.Unsupported: return "request not supported by the device";
                case BlockError.ReadOnly: return "device is read-only";
                case BlockError.OutOfRange: return "request beyond the end of the device";
                case BlockError.BadBuffer: return "buffer is not a whole number of blocks";
                case BlockError.Timeout: return "device did not complete the request in time";
                case BlockError.DeviceMisbehaved: return "device violated the protocol";
                case BlockError.NoMemory: return "out of DMA memory or descriptors";
                default: return "device not ready";
            }
        }
    }
}
