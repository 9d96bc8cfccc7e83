//! Tests of the cached block stream: against a model, with tiny caches,
//! failing devices, read-ahead, bypass and combined writes.
use super::*;
use alloc::vec::Vec;

/// An in-memory device that can be told to fail after a number of requests.
struct MemDev {
    data: Vec<u8>,
    bs: usize,
    ro: bool,
    /// Requests (reads+writes) left before every request fails with `Io`.
    fail_after: Option<u64>,
    /// A block every write touching it fails on (a bad sector).
    bad_block: Option<u64>,
    requests: u64,
    flushes: u64,
    /// Every request's (is_write, lba, blocks).
    log: Vec<(bool, u64, usize)>,
}

impl MemDev {
    fn new(blocks: usize, bs: usize) -> Self {
        // A recognisable pattern, so reads of never-written blocks are checked too.
        let data = (0..blocks * bs).map(|i| (i * 7 + i / 251) as u8).collect();
        MemDev {
            data,
            bs,
            ro: false,
            fail_after: None,
            bad_block: None,
            requests: 0,
            flushes: 0,
            log: Vec::new(),
        }
    }
    fn check_write(&mut self, lba: Lba, len: usize) -> Result<core::ops::Range<usize>, BlockError> {
        if let Some(b) = self.bad_block {
            let first = lba.as_u64();
            if b >= first && b < first + (len / self.bs) as u64 {
                return Err(BlockError::Io);
            }
        }
        self.check(lba, len)
    }
    fn check(&mut self, lba: Lba, len: usize) -> Result<core::ops::Range<usize>, BlockError> {
        if len == 0 || !len.is_multiple_of(self.bs) {
            return Err(BlockError::BadBuffer);
        }
        let start = (lba.as_u64() as usize) * self.bs;
        if start + len > self.data.len() {
            return Err(BlockError::OutOfRange);
        }
        self.requests += 1;
        if let Some(n) = self.fail_after {
            if self.requests > n {
                return Err(BlockError::Io);
            }
        }
        Ok(start..start + len)
    }
}

impl BlockDevice for MemDev {
    fn block_size(&self) -> usize {
        self.bs
    }
    fn block_count(&self) -> u64 {
        (self.data.len() / self.bs) as u64
    }
    fn is_read_only(&self) -> bool {
        self.ro
    }
    fn read_blocks(&mut self, lba: Lba, buf: &mut [u8]) -> Result<(), BlockError> {
        let r = self.check(lba, buf.len())?;
        self.log.push((false, lba.as_u64(), buf.len() / self.bs));
        buf.copy_from_slice(&self.data[r]);
        Ok(())
    }
    fn write_blocks(&mut self, lba: Lba, buf: &[u8]) -> Result<(), BlockError> {
        if self.ro {
            return Err(BlockError::ReadOnly);
        }
        let r = self.check_write(lba, buf.len())?;
        self.log.push((true, lba.as_u64(), buf.len() / self.bs));
        self.data[r].copy_from_slice(buf);
        Ok(())
    }
    fn flush(&mut self) -> Result<(), BlockError> {
        if self.ro {
            return Err(BlockError::ReadOnly);
        }
        self.flushes += 1;
        Ok(())
    }
}

/// xorshift64*: deterministic test randomness without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn small_cfg() -> CacheConfig {
    CacheConfig {
        sets: 4,
        ways: 2,
        readahead_blocks: 3,
        bypass_blocks: 4,
        write_combine_blocks: 0,
    }
}

/// `small_cfg` with bypass writes combined up to 12 blocks.
fn combining_cfg() -> CacheConfig {
    CacheConfig {
        write_combine_blocks: 12,
        ..small_cfg()
    }
}

#[test]
fn reads_match_device_and_eof_is_zero() {
    let dev = MemDev::new(64, 512);
    let expect = dev.data.clone();
    let mut s = BlockStream::with_config(dev, small_cfg()).unwrap();
    let mut buf = vec![0u8; 1000];
    s.seek(SeekFrom::Start(300)).unwrap();
    assert_eq!(s.read(&mut buf).unwrap(), 1000);
    assert_eq!(&buf[..], &expect[300..1300]);
    s.seek(SeekFrom::End(-10)).unwrap();
    assert_eq!(s.read(&mut buf).unwrap(), 10);
    assert_eq!(&buf[..10], &expect[expect.len() - 10..]);
    assert_eq!(s.read(&mut buf).unwrap(), 0);
    assert_eq!(
        s.seek(SeekFrom::Current(-1)).unwrap(),
        expect.len() as u64 - 1
    );
    assert_eq!(
        s.seek(SeekFrom::Current(-(1 << 40))),
        Err(StreamError::InvalidSeek)
    );
}

#[test]
fn partial_write_is_read_modify_write_and_reaches_device_on_flush() {
    let dev = MemDev::new(16, 512);
    let mut model = dev.data.clone();
    let mut s = BlockStream::with_config(dev, small_cfg()).unwrap();
    s.seek(SeekFrom::Start(510)).unwrap();
    s.write_all(b"hello").unwrap();
    model[510..515].copy_from_slice(b"hello");
    // Not yet on the device (write-back) ...
    assert_ne!(&s.device().data[510..515], b"hello");
    assert_eq!(s.dirty_blocks(), 2);
    // ... but visible through the stream.
    let mut back = [0u8; 9];
    s.seek(SeekFrom::Start(508)).unwrap();
    s.read_exact(&mut back).unwrap();
    assert_eq!(&back[..], &model[508..517]);
    s.flush().unwrap();
    assert_eq!(s.dirty_blocks(), 0);
    assert_eq!(s.device().data, model);
    assert_eq!(s.device().flushes, 1);
}

#[test]
fn large_aligned_io_bypasses_cache_in_one_request() {
    let dev = MemDev::new(64, 512);
    let mut s = BlockStream::with_config(dev, small_cfg()).unwrap();
    let data: Vec<u8> = (0..16 * 512).map(|i| (i % 253) as u8).collect();
    s.seek(SeekFrom::Start(8 * 512)).unwrap();
    s.write_all(&data).unwrap();
    assert_eq!(s.device().log.last(), Some(&(true, 8, 16)));
    assert_eq!(&s.device().data[8 * 512..24 * 512], &data[..]);
    let mut back = vec![0u8; 16 * 512];
    s.seek(SeekFrom::Start(8 * 512)).unwrap();
    s.read_exact(&mut back).unwrap();
    assert_eq!(s.device().log.last(), Some(&(false, 8, 16)));
    assert_eq!(back, data);
    assert_eq!(s.stats().bypass_bytes, 2 * 16 * 512);
}

#[test]
fn bypass_read_sees_dirty_cached_blocks_and_bypass_write_refreshes_cache() {
    let dev = MemDev::new(64, 512);
    let mut s = BlockStream::with_config(dev, small_cfg()).unwrap();
    // Dirty a block inside the range, through the cache.
    s.seek(SeekFrom::Start(10 * 512 + 3)).unwrap();
    s.write_all(b"dirty").unwrap();
    let mut big = vec![0u8; 8 * 512];
    s.seek(SeekFrom::Start(8 * 512)).unwrap();
    s.read_exact(&mut big).unwrap();
    assert_eq!(&big[2 * 512 + 3..2 * 512 + 8], b"dirty");
    // Now overwrite the whole range directly; the cached copy must follow.
    let fresh = vec![0xAB; 8 * 512];
    s.seek(SeekFrom::Start(8 * 512)).unwrap();
    s.write_all(&fresh).unwrap();
    let mut small = [0u8; 5];
    s.seek(SeekFrom::Start(10 * 512 + 3)).unwrap();
    s.read_exact(&mut small).unwrap();
    assert_eq!(small, [0xAB; 5]);
    // And a flush must not resurrect the stale dirty bytes.
    s.flush().unwrap();
    assert_eq!(&s.device().data[8 * 512..16 * 512], &fresh[..]);
}

#[test]
fn sequential_misses_read_ahead() {
    let dev = MemDev::new(64, 512);
    let expect = dev.data.clone();
    let mut s = BlockStream::with_config(dev, small_cfg()).unwrap();
    let mut buf = [0u8; 512];
    for b in 0..9u64 {
        s.seek(SeekFrom::Start(b * 512)).unwrap();
        s.read_exact(&mut buf).unwrap();
        assert_eq!(&buf[..], &expect[b as usize * 512..(b as usize + 1) * 512]);
    }
    // Block 0 alone, then windows of 3: 0 | 1,2,3 | 4,5,6 | 7,8,9.
    assert_eq!(s.stats().device_reads, 4);
}

#[test]
fn sequential_small_writes_leave_as_large_requests() {
    let dev = MemDev::new(256, 512);
    let mut s = BlockStream::new(dev).unwrap();
    let data: Vec<u8> = (0..200 * 512).map(|i| (i % 241) as u8).collect();
    // One block at a time, as fatfs writes 512-byte clusters.
    for chunk in data.chunks(512) {
        s.write_all(chunk).unwrap();
    }
    s.flush().unwrap();
    assert_eq!(&s.device().data[..data.len()], &data[..]);
    let writes = s.device().log.iter().filter(|r| r.0).count();
    assert!(
        writes <= 8,
        "{writes} device writes for 200 sequential blocks"
    );
}

#[test]
fn writes_past_end_are_short_then_error() {
    let dev = MemDev::new(4, 512);
    let mut s = BlockStream::with_config(dev, small_cfg()).unwrap();
    s.seek(SeekFrom::Start(2040)).unwrap();
    assert_eq!(s.write(&[1u8; 100]).unwrap(), 8);
    assert_eq!(s.write(&[1u8; 100]), Err(StreamError::EndOfDevice));
    assert_eq!(
        embedded_io::Error::kind(&StreamError::EndOfDevice),
        ErrorKind::WriteZero
    );
}

#[test]
fn read_only_device_refuses_writes_clearly() {
    let mut dev = MemDev::new(4, 512);
    dev.ro = true;
    let mut s = BlockStream::new(dev).unwrap();
    let e = s.write(b"x").unwrap_err();
    assert_eq!(e.block_error(), Some(BlockError::ReadOnly));
    assert_eq!(embedded_io::Error::kind(&e), ErrorKind::PermissionDenied);
    // Flushing a clean read-only stream is fine.
    s.flush().unwrap();
    let mut b = [0u8; 4];
    s.read_exact(&mut b).unwrap();
}

#[test]
fn bad_geometry_is_an_error() {
    let dev = MemDev::new(4, 512);
    let cfg = CacheConfig {
        ways: 0,
        ..CacheConfig::default()
    };
    assert!(matches!(
        BlockStream::with_config(dev, cfg),
        Err(StreamError::BadConfig)
    ));
    let mut dev = MemDev::new(4, 512);
    dev.bs = 500;
    assert!(matches!(
        BlockStream::new(dev),
        Err(StreamError::BadBlockSize(500))
    ));
}

/// Random reads, writes, seeks and flushes against a plain `Vec<u8>` model.
fn random_ops(seed: u64, bs: usize, cfg: CacheConfig) {
    let blocks = 96;
    let dev = MemDev::new(blocks, bs);
    let mut model = dev.data.clone();
    let size = model.len() as u64;
    let mut s = BlockStream::with_config(dev, cfg).unwrap();
    let mut rng = Rng(seed);
    for step in 0..3000 {
        let pos = match rng.below(4) {
            0 => rng.below(blocks as u64) * bs as u64,
            _ => rng.below(size),
        };
        let len = match rng.below(5) {
            0 => rng.below(8) as usize,
            1 => bs,
            2 => (1 + rng.below(20) as usize) * bs,
            _ => rng.below(3 * bs as u64) as usize,
        };
        s.seek(SeekFrom::Start(pos)).unwrap();
        match rng.below(10) {
            0..=3 => {
                let mut buf = vec![0u8; len];
                let n = s.read(&mut buf).unwrap();
                let end = (pos + len as u64).min(size) as usize;
                assert_eq!(n, end - pos as usize, "step {step}");
                assert_eq!(&buf[..n], &model[pos as usize..end], "step {step}");
                assert_eq!(s.position(), pos + n as u64);
            }
            4..=8 => {
                let data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                let n = s.write(&data).unwrap();
                let end = (pos + len as u64).min(size) as usize;
                assert_eq!(n, end - pos as usize, "step {step}");
                model[pos as usize..end].copy_from_slice(&data[..n]);
            }
            _ => {
                s.flush().unwrap();
                assert_eq!(s.device().data, model, "after flush, step {step}");
            }
        }
    }
    let dev = s.into_inner().map_err(|e| e.error).unwrap();
    assert_eq!(dev.data, model);
}

#[test]
fn random_ops_match_model_default_cache() {
    for seed in 1..=4u64 {
        random_ops(seed.wrapping_mul(0x9E37_79B9), 512, CacheConfig::default());
    }
}

#[test]
fn random_ops_match_model_tiny_cache_and_4k_blocks() {
    for seed in 1..=4u64 {
        random_ops(seed.wrapping_mul(0xDEAD_BEEF), 512, small_cfg());
        random_ops(seed.wrapping_mul(0x1234_5677), 4096, small_cfg());
    }
    let one_slot = CacheConfig {
        sets: 1,
        ways: 1,
        readahead_blocks: 1,
        bypass_blocks: 1,
        write_combine_blocks: 0,
    };
    random_ops(77, 512, one_slot);
    for seed in 1..=4u64 {
        random_ops(seed.wrapping_mul(0xC0FF_EE11), 512, combining_cfg());
        random_ops(seed.wrapping_mul(0x0BAD_CAFE), 4096, combining_cfg());
    }
    random_ops(
        78,
        512,
        CacheConfig {
            write_combine_blocks: 3,
            ..one_slot
        },
    );
}

/// fatfs writes a file one cluster at a time: with 4 KiB clusters each
/// write is a bypass run, and consecutive ones leave as one request per
/// `write_combine_blocks`, not one per cluster.
#[test]
fn consecutive_cluster_writes_are_combined() {
    let dev = MemDev::new(8192, 512);
    let mut s = BlockStream::new(dev).unwrap();
    let data: Vec<u8> = (0..4096u32).map(|i| (i * 7) as u8).collect();
    for k in 0..512u64 {
        s.seek(SeekFrom::Start(k * 4096)).unwrap();
        s.write_all(&data).unwrap();
    }
    // The first MiB went out as one request; the second is pending.
    assert_eq!(s.stats().device_writes, 1);
    assert_eq!(s.dirty_blocks(), 2048);
    // A read of a pending block sees it (the run goes out first).
    let mut back = vec![0u8; 4096];
    s.seek(SeekFrom::Start(4096 * 300)).unwrap();
    s.read_exact(&mut back).unwrap();
    assert_eq!(back, data);
    s.flush().unwrap();
    assert_eq!(s.stats().device_writes, 2, "2 MiB in 1 MiB requests");
    let dev = s.into_inner().unwrap();
    for k in 0..512usize {
        assert_eq!(&dev.data[k * 4096..(k + 1) * 4096], &data[..]);
    }
}

/// A bad sector inside a combined run: the flush that writes the run reports
/// the error once, the run is dropped, and the stream stays usable (later
/// writes and flushes succeed, other blocks hold what was written).
#[test]
fn a_bad_sector_in_a_combined_run_fails_one_flush_not_every_later_one() {
    let mut dev = MemDev::new(1024, 512);
    dev.bad_block = Some(40);
    let mut s = BlockStream::new(dev).unwrap();
    let data = vec![0x5Au8; 4096];
    for k in 0..8u64 {
        s.seek(SeekFrom::Start(k * 4096)).unwrap();
        s.write_all(&data).unwrap();
    }
    assert_eq!(s.flush(), Err(StreamError::Device(BlockError::Io)));
    // Elsewhere, the device still takes writes, and flushes succeed again.
    s.seek(SeekFrom::Start(512 * 512)).unwrap();
    s.write_all(&data).unwrap();
    s.flush().unwrap();
    let mut back = vec![0u8; 4096];
    s.seek(SeekFrom::Start(512 * 512)).unwrap();
    s.read_exact(&mut back).unwrap();
    assert_eq!(back, data);
}

/// A device that starts failing mid-way: every error surfaces, and whatever
/// the stream reports as written is exactly what the device ends up holding
/// once it recovers and the stream is flushed. With combined writes, a write
/// is confirmed by the next successful flush: an error in between may have
/// dropped a combined run, so it makes every write since that flush unknown
/// (the contract of a write-back cache that reports at flush, like fsync).
#[test]
fn failing_device_surfaces_errors_and_loses_nothing_acknowledged() {
    for cfg in [small_cfg(), combining_cfg()] {
        failing_device(cfg);
    }
}

fn failing_device(cfg: CacheConfig) {
    for seed in 1..=12u64 {
        let blocks = 64;
        let bs = 512;
        let dev = MemDev::new(blocks, bs);
        let original = dev.data.clone();
        let mut model = original.clone();
        // Bytes whose device contents are unknown after a failed write.
        let mut unknown = vec![false; model.len()];
        let mut s = BlockStream::with_config(dev, cfg).unwrap();
        let mut rng = Rng(seed.wrapping_mul(0x5851_F42D_4C95_7F2D));
        s.device_mut().fail_after = Some(5 + rng.below(60));
        let mut errors = 0;
        // With combining, longer writes (bypass runs) and sequential
        // bursts (runs that continue each other) are what matter.
        let combining = cfg.write_combine_blocks > 1;
        let max_len = if combining { 9 * bs } else { 3 * bs };
        let mut next = 0u64;
        // Writes not yet confirmed by a successful flush (combining only).
        let mut unconfirmed: Vec<(usize, usize)> = Vec::new();
        let on_error = |unknown: &mut Vec<bool>, unconfirmed: &mut Vec<(usize, usize)>| {
            for (p, n) in unconfirmed.drain(..) {
                unknown[p..p + n].fill(true);
            }
        };
        for _ in 0..400 {
            let pos = if combining && rng.below(2) == 0 && next < model.len() as u64 - 1 {
                next
            } else {
                rng.below(model.len() as u64 - 1)
            };
            let len = 1 + rng.below(max_len as u64) as usize;
            let len = len.min(model.len() - pos as usize);
            next = pos + len as u64;
            s.seek(SeekFrom::Start(pos)).unwrap();
            if rng.below(2) == 0 {
                let mut buf = vec![0u8; len];
                match s.read(&mut buf) {
                    Ok(n) => {
                        for (k, got) in buf[..n].iter().enumerate() {
                            let p = pos as usize + k;
                            if !unknown[p] {
                                assert_eq!(*got, model[p], "silent corruption at {p}");
                            }
                        }
                    }
                    Err(e) => {
                        assert_eq!(e, StreamError::Device(BlockError::Io));
                        errors += 1;
                        if combining {
                            on_error(&mut unknown, &mut unconfirmed);
                        }
                    }
                }
            } else {
                let data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                match s.write(&data) {
                    Ok(n) => {
                        assert_eq!(n, len);
                        let p = pos as usize;
                        model[p..p + n].copy_from_slice(&data[..n]);
                        unknown[p..p + n].fill(false);
                        if combining {
                            unconfirmed.push((p, n));
                        }
                    }
                    Err(e) => {
                        assert_eq!(e, StreamError::Device(BlockError::Io));
                        errors += 1;
                        let p = pos as usize;
                        unknown[p..p + len].fill(true);
                        if combining {
                            on_error(&mut unknown, &mut unconfirmed);
                        }
                    }
                }
            }
            if rng.below(20) == 0 {
                if s.flush().is_err() {
                    errors += 1;
                    if combining {
                        on_error(&mut unknown, &mut unconfirmed);
                    }
                } else {
                    unconfirmed.clear();
                }
            }
        }
        assert!(errors > 0, "the device never failed (seed {seed})");
        // The device recovers; everything acknowledged must now reach it.
        s.device_mut().fail_after = None;
        s.flush().unwrap();
        let dev = s.into_inner().map_err(|e| e.error).unwrap();
        for p in 0..model.len() {
            if !unknown[p] {
                assert_eq!(
                    dev.data[p], model[p],
                    "lost write at byte {p} (seed {seed})"
                );
            }
        }
    }
}

#[test]
fn failed_flush_keeps_blocks_dirty_for_a_retry() {
    let dev = MemDev::new(16, 512);
    let mut s = BlockStream::with_config(dev, small_cfg()).unwrap();
    s.write_all(&[9u8; 700]).unwrap();
    let requests = s.device().requests;
    s.device_mut().fail_after = Some(requests);
    let e = s.flush().unwrap_err();
    assert_eq!(e.block_error(), Some(BlockError::Io));
    assert_eq!(s.dirty_blocks(), 2);
    let (mut s, e) = match s.into_inner() {
        Err(x) => (x.stream, x.error),
        Ok(_) => panic!("into_inner must report the failed flush"),
    };
    assert_eq!(e, StreamError::Device(BlockError::Io));
    s.device_mut().fail_after = None;
    let dev = s.into_inner().map_err(|e| e.error).unwrap();
    assert_eq!(&dev.data[..700], &[9u8; 700][..]);
}

/// Writes `src` at `pos` the way fatfs does inside a borrowed write: one
/// `write_all` per `piece` bytes, each a slice of `src`.
fn write_in_pieces(s: &mut BlockStream<MemDev>, pos: u64, src: &[u8], piece: usize) {
    s.seek(SeekFrom::Start(pos)).unwrap();
    for p in src.chunks(piece) {
        s.write_all(p).unwrap();
    }
}

#[test]
fn borrowed_write_sends_runs_from_the_buffer_and_supersedes_the_cache() {
    let dev = MemDev::new(128, 512);
    let mut model = dev.data.clone();
    let mut s = BlockStream::with_config(dev, combining_cfg()).unwrap();
    // A clean cached block and a dirty one inside the range to be written.
    let mut one = [0u8; 512];
    s.seek(SeekFrom::Start(20 * 512)).unwrap();
    s.read_exact(&mut one).unwrap();
    s.seek(SeekFrom::Start(30 * 512 + 7)).unwrap();
    s.write_all(b"stale").unwrap();
    // 100 bytes of unaligned head, 24 whole blocks, 300 bytes of tail.
    let src: Vec<u8> = (0..100 + 24 * 512 + 300).map(|i| (i % 251) as u8).collect();
    let pos = 16 * 512 - 100;
    s.begin_borrowed(&src).unwrap();
    let before = s.device().log.len();
    // The head and tail go through the cache; 4-block pieces are recorded.
    s.seek(SeekFrom::Start(pos)).unwrap();
    s.write_all(&src[..100]).unwrap();
    write_in_pieces(&mut s, 16 * 512, &src[100..100 + 24 * 512], 4 * 512);
    s.write_all(&src[100 + 24 * 512..]).unwrap();
    assert_eq!(
        s.dirty_blocks(),
        2 + 24,
        "head, tail, recorded; the stale block is gone"
    );
    // Nothing of the recorded blocks reached the device yet.
    assert!(s.device().log[before..]
        .iter()
        .all(|r| !(r.0 && r.1 >= 16 && r.1 < 40)));
    s.end_borrowed(&src).unwrap();
    // Contiguous in the buffer and on the device: runs of up to 12 blocks.
    let runs: Vec<_> = s.device().log[before..]
        .iter()
        .filter(|r| r.0)
        .copied()
        .collect();
    assert_eq!(runs, vec![(true, 16, 12), (true, 28, 12)]);
    model[pos as usize..pos as usize + src.len()].copy_from_slice(&src);
    // The cached copies were superseded: reads see the new bytes.
    let mut back = vec![0u8; src.len()];
    s.seek(SeekFrom::Start(pos)).unwrap();
    s.read_exact(&mut back).unwrap();
    assert_eq!(back, src);
    s.seek(SeekFrom::Start(20 * 512)).unwrap();
    s.read_exact(&mut one).unwrap();
    assert_eq!(&one[..], &src[100 + 4 * 512..100 + 5 * 512]);
    s.flush().unwrap();
    assert_eq!(s.dirty_blocks(), 0);
    assert_eq!(
        s.device().data,
        model,
        "the stale dirty block must not come back"
    );
}

#[test]
fn recorded_blocks_cannot_be_reached_while_the_borrowed_write_is_open() {
    let dev = MemDev::new(128, 512);
    let mut s = BlockStream::with_config(dev, small_cfg()).unwrap();
    let src = vec![0x5A; 8 * 512];
    s.begin_borrowed(&src).unwrap();
    assert_eq!(s.begin_borrowed(&src), Err(StreamError::BorrowedBlocks));
    write_in_pieces(&mut s, 40 * 512, &src, 4 * 512);
    let mut b = [0u8; 16];
    s.seek(SeekFrom::Start(42 * 512)).unwrap();
    assert_eq!(s.read(&mut b), Err(StreamError::BorrowedBlocks));
    s.seek(SeekFrom::Start(47 * 512 + 500)).unwrap();
    assert_eq!(s.write(b"x"), Err(StreamError::BorrowedBlocks));
    // A write of the same blocks from another buffer is not recorded: refused.
    let other = vec![1u8; 4 * 512];
    s.seek(SeekFrom::Start(44 * 512)).unwrap();
    assert_eq!(s.write(&other), Err(StreamError::BorrowedBlocks));
    // Sequential reads up to the recorded range: the read-ahead window of
    // block 39 (39..42) is cut to block 39.
    for blk in 35..40u64 {
        s.seek(SeekFrom::Start(blk * 512)).unwrap();
        s.read_exact(&mut b).unwrap();
    }
    let reads: Vec<_> = s.device().log.iter().filter(|r| !r.0).copied().collect();
    assert_eq!(reads, vec![(false, 35, 1), (false, 36, 3), (false, 39, 1)]);
    // Blocks outside stay usable.
    s.seek(SeekFrom::Start(48 * 512)).unwrap();
    s.write_all(b"after").unwrap();
    // Ending with another buffer is refused.
    assert_eq!(s.end_borrowed(&other), Err(StreamError::BorrowedBlocks));
    assert_eq!(s.end_borrowed(&other), Ok(()), "nothing open any more");
    // Now with the right buffer from the start.
    s.begin_borrowed(&src).unwrap();
    write_in_pieces(&mut s, 40 * 512, &src, 4 * 512);
    s.end_borrowed(&src).unwrap();
    let mut back = vec![0u8; 8 * 512];
    s.seek(SeekFrom::Start(40 * 512)).unwrap();
    s.read_exact(&mut back).unwrap();
    assert_eq!(back, src);
    s.flush().unwrap();
    assert_eq!(&s.device().data[40 * 512..48 * 512], &src[..]);
    assert_eq!(&s.device().data[48 * 512..48 * 512 + 5], b"after");
}

#[test]
fn a_device_error_in_one_run_fails_the_end_and_the_other_runs_still_land() {
    let mut dev = MemDev::new(128, 512);
    dev.bad_block = Some(45);
    let mut s = BlockStream::with_config(dev, combining_cfg()).unwrap();
    // Two runs: 40..48 and, not contiguous in the buffer's order, 60..68.
    let src: Vec<u8> = (0..16 * 512).map(|i| (i % 249) as u8).collect();
    s.begin_borrowed(&src).unwrap();
    write_in_pieces(&mut s, 40 * 512, &src[..8 * 512], 4 * 512);
    write_in_pieces(&mut s, 60 * 512, &src[8 * 512..], 4 * 512);
    assert_eq!(
        s.end_borrowed(&src),
        Err(StreamError::Device(BlockError::Io))
    );
    assert_eq!(&s.device().data[60 * 512..68 * 512], &src[8 * 512..]);
    // The failure is reported once: later flushes are not poisoned by it.
    s.flush().unwrap();
    assert_eq!(s.dirty_blocks(), 0);
}

#[test]
fn a_pending_combined_run_goes_before_a_borrowed_run_over_it() {
    let dev = MemDev::new(128, 512);
    let mut s = BlockStream::with_config(dev, combining_cfg()).unwrap();
    let old = vec![0x11; 4 * 512];
    s.seek(SeekFrom::Start(40 * 512)).unwrap();
    s.write_all(&old).unwrap();
    assert_eq!(s.dirty_blocks(), 4, "combined, still pending");
    let src = vec![0x22; 8 * 512];
    s.begin_borrowed(&src).unwrap();
    write_in_pieces(&mut s, 38 * 512, &src, 4 * 512);
    s.end_borrowed(&src).unwrap();
    s.flush().unwrap();
    assert_eq!(&s.device().data[38 * 512..46 * 512], &src[..]);
    let log: Vec<_> = s.device().log.iter().filter(|r| r.0).copied().collect();
    assert_eq!(log, vec![(true, 40, 4), (true, 38, 8)]);
}

/// Small accesses to a cached block take the fast path (`small_hit`): they
/// count as hits, read no device, and a small write leaves the block dirty
/// until a flush.
#[test]
fn small_accesses_to_a_cached_block_stay_in_the_cache() {
    let mut s = BlockStream::with_config(MemDev::new(64, 512), small_cfg()).unwrap();
    let mut e = [0u8; 4];
    s.read_at(8 * 512 + 12, &mut e).unwrap();
    let (hits, requests) = (s.stats().hits, s.device().requests);
    for k in 0..64u64 {
        s.write_at(8 * 512 + k * 4, &(k as u32).to_le_bytes())
            .unwrap();
        s.read_at(8 * 512 + k * 4, &mut e).unwrap();
        assert_eq!(u32::from_le_bytes(e), k as u32);
    }
    assert_eq!(s.stats().hits, hits + 128);
    assert_eq!(s.device().requests, requests, "no device request");
    assert_eq!(s.dirty_blocks(), 1);
    s.flush().unwrap();
    let dev = s.into_inner().unwrap();
    assert_eq!(
        &dev.data[8 * 512 + 252..8 * 512 + 256],
        &63u32.to_le_bytes()
    );
}

/// A small write to a cached block that a pending combined run also holds
/// must not take the fast path: the run goes to the device first, so the
/// small write, even when its block is evicted before the flush, is not
/// overwritten by the run's older copy of the block.
#[test]
fn a_small_write_over_a_pending_run_is_not_undone_by_it() {
    let mut s = BlockStream::with_config(MemDev::new(64, 512), combining_cfg()).unwrap();
    let mut b = [0u8; 4];
    s.read_at(8 * 512, &mut b).unwrap(); // block 8 cached
    let run = vec![0xAAu8; 4 * 512];
    s.write_at(8 * 512, &run).unwrap(); // blocks 8..12 pending, cache refreshed
    assert!(s.dirty_blocks() >= 4);
    s.write_at(8 * 512 + 100, &[1, 2, 3, 4]).unwrap();
    // Evict block 8 (set 0 of 4, 2 ways): read blocks 16, 24 and 32.
    for lba in [16u64, 24, 32] {
        s.read_at(lba * 512, &mut b).unwrap();
    }
    s.flush().unwrap();
    let dev = s.into_inner().unwrap();
    assert_eq!(&dev.data[8 * 512 + 100..8 * 512 + 104], &[1, 2, 3, 4]);
    assert_eq!(dev.data[8 * 512 + 104], 0xAA);
    assert_eq!(dev.data[11 * 512 + 511], 0xAA);
}
