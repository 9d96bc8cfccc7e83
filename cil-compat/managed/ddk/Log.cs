//! Managed DDK: logging (the ABI's `log`, UTF-8), debug markers, the monotonic clock
//! (`time_ns`), and `LogLine`, an allocation-free line builder for the I/O path.
using System;

namespace Ddk
{
    public static unsafe class Log
    {
        public static void Write(LogLevel level, string message)
        {
            LogLine line = new LogLine();
            line.Append(message);
            line.Emit(level);
        }

        public static void Error(string message) { Write(LogLevel.Error, message); }
        public static void Warn(string message) { Write(LogLevel.Warn, message); }
        public static void Info(string message) { Write(LogLevel.Info, message); }
        public static void Debug(string message) { Write(LogLevel.Debug, message); }

        /// `debug_marker`: a code the platform makes visible (trace port, test log).
        public static void Marker(uint code) { Abi.debug_marker(code); }
    }

    public static class Clock
    {
        /// Monotonic nanoseconds; false when the platform has no clock.
        public static bool TryNowNs(out ulong now)
        {
            ulong t;
            uint s = Abi.time_ns(out t);
            now = s == 0 ? t : 0;
            return s == 0;
        }
    }

    /// A fixed 192-byte UTF-8 line. Text that does not fit is dropped at a character
    /// boundary (never split inside a UTF-8 sequence). A value type: use it as a local.
    public unsafe struct LogLine
    {
        public const int Capacity = 192;

        fixed byte _buf[Capacity];
        int _len;

        public int Length { get { return _len; } }

        /// Appends raw bytes if all of them fit; returns false (and appends nothing) otherwise.
        bool Put(byte b0, byte b1, byte b2, byte b3, int n)
        {
            if (_len + n > Capacity)
            {
                _len = Capacity; // full: later appends are dropped too, keeping order
                return false;
            }
            fixed (byte* p = _buf)
            {
                p[_len] = b0;
                if (n > 1) p[_len + 1] = b1;
                if (n > 2) p[_len + 2] = b2;
                if (n > 3) p[_len + 3] = b3;
            }
            _len += n;
            return true;
        }

        /// Appends one Unicode scalar as UTF-8.
        public void AppendCodePoint(uint c)
        {
            if (c < 0x80) Put((byte)c, 0, 0, 0, 1);
            else if (c < 0x800) Put((byte)(0xC0 | (c >> 6)), (byte)(0x80 | (c & 0x3F)), 0, 0, 2);
            else if (c < 0x10000) Put((byte)(0xE0 | (c >> 12)), (byte)(0x80 | ((c >> 6) & 0x3F)), (byte)(0x80 | (c & 0x3F)), 0, 3);
            else Put((byte)(0xF0 | (c >> 18)), (byte)(0x80 | ((c >> 12) & 0x3F)), (byte)(0x80 | ((c >> 6) & 0x3F)), (byte)(0x80 | (c & 0x3F)), 4);
        }

        /// Appends UTF-16 text; unpaired surrogates become U+FFFD.
        public void Append(string s)
        {
            if (s == null) return;
            int n = s.Length;
            for (int i = 0; i < n; i++)
            {
                uint c = s[i];
                if (c >= 0xD800 && c <= 0xDBFF && i + 1 < n && s[i + 1] >= 0xDC00 && s[i + 1] <= 0xDFFF)
                {
                    c = 0x10000 + ((c - 0xD800) << 10) + ((uint)s[i + 1] - 0xDC00);
                    i++;
                }
                else if (c >= 0xD800 && c <= 0xDFFF)
                {
                    c = 0xFFFD;
                }
                AppendCodePoint(c);
            }
        }

        public void AppendDec(ulong v)
        {
            byte* tmp = stackalloc byte[20];
            int n = 0;
            do
            {
                tmp[n++] = (byte)('0' + (int)(v % 10));
                v /= 10;
            } while (v != 0);
            while (n > 0) Put(tmp[--n], 0, 0, 0, 1);
        }

        public void AppendSigned(long v)
        {
            if (v < 0)
            {
                Put((byte)'-', 0, 0, 0, 1);
                AppendDec((ulong)(-(v + 1)) + 1);
            }
            else
            {
                AppendDec((ulong)v);
            }
        }

        /// Lower-case hex, at least `digits` digits, no prefix.
        public void AppendHex(ulong v, int digits)
        {
            int n = 16;
            while (n > 1 && (v >> ((n - 1) * 4)) == 0 && n > digits) n--;
            for (int i = n - 1; i >= 0; i--)
            {
                uint d = (uint)(v >> (i * 4)) & 0xF;
                Put((byte)(d < 10 ? '0' + d : 'a' + d - 10), 0, 0, 0, 1);
            }
        }

        /// `0x…` like Rust's `{:#x}`.
        public void AppendHex(ulong v)
        {
            Append("0x");
            AppendHex(v, 1);
        }

        /// `bb:dd.f` like ddk::PciAddress's Display.
        public void Append(PciAddress a)
        {
            AppendHex(a.Bus, 2);
            Put((byte)':', 0, 0, 0, 1);
            AppendHex(a.Device, 2);
            Put((byte)'.', 0, 0, 0, 1);
            AppendDec(a.Function);
        }

        /// Copies the bytes to `dst` (at most `capacity`); returns how many.
        public int CopyTo(byte* dst, int capacity)
        {
            int n = _len < capacity ? _len : capacity;
            fixed (byte* p = _buf)
            {
                for (int i = 0; i < n; i++) dst[i] = p[i];
            }
            return n;
        }

        public void Emit(LogLevel level)
        {
            fixed (byte* p = _buf)
            {
                Abi.log((uint)level, p, (UIntPtr)(uint)_len);
            }
        }
    }
}
