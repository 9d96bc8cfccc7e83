//! Reading a file through its extents: the bytes are the file's (contiguous
//! and fragmented files, any cluster size) and a contiguous file costs one
//! device request per buffer, not one per cluster as lamfat's own `read` does.

use ddk::{BlockDevice, BlockError, Lba};
use disks::build::build_image_bytes;
use disks::fs::Volume;
use disks::mem::MemDisk;
use disks::{ImageSpec, TimeSource, Timestamp};
use lamfat::Read as _;

/// A MemDisk that counts read requests.
struct Counting {
    inner: MemDisk,
    reads: u64,
}

impl BlockDevice for Counting {
    fn block_size(&self) -> usize {
        self.inner.block_size()
    }
    fn block_count(&self) -> u64 {
        self.inner.block_count()
    }
    fn is_read_only(&self) -> bool {
        self.inner.is_read_only()
    }
    fn read_blocks(&mut self, lba: Lba, buf: &mut [u8]) -> Result<(), BlockError> {
        self.reads += 1;
        self.inner.read_blocks(lba, buf)
    }
    fn write_blocks(&mut self, lba: Lba, buf: &[u8]) -> Result<(), BlockError> {
        self.inner.write_blocks(lba, buf)
    }
    fn flush(&mut self) -> Result<(), BlockError> {
        self.inner.flush()
    }
}

const MANIFEST: &str = r#"
image-size   72MiB
cluster-size 1024
label        EXTENTS
volume-id    0x20261206
timestamp    2026-12-06 08:00:00
file /big.bin random 8M seed=8
file /small.txt text "small\n"
"#;

fn clock() -> Timestamp {
    Timestamp::new(2026, 12, 6, 10, 0, 0)
}

fn reads(v: &Volume<Counting>) -> u64 {
    v.with_device(|d| d.reads)
}

#[test]
fn a_contiguous_file_is_read_in_buffer_sized_requests() {
    let (img, _) = build_image_bytes(&ImageSpec::parse(MANIFEST).unwrap()).unwrap();
    let truth = {
        let v = Volume::mount(MemDisk::from_vec(img.clone()), TimeSource::Clock(clock)).unwrap();
        let mut f = v.open_file("/big.bin").unwrap();
        let mut out = Vec::new();
        let mut b = vec![0u8; 4096];
        loop {
            let n = f.read(&mut b).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&b[..n]);
        }
        out
    };
    assert_eq!(truth.len(), 8 << 20);
    let dev = Counting {
        inner: MemDisk::from_vec(img),
        reads: 0,
    };
    let v = Volume::mount(dev, TimeSource::Clock(clock)).unwrap();
    let before = reads(&v);
    let mut buf = vec![0u8; 1 << 20];
    let mut got = Vec::new();
    let n = v
        .stream_file("/big.bin", &mut buf, &mut |b| got.extend_from_slice(b))
        .unwrap();
    let requests = reads(&v) - before;
    assert_eq!(n, 8 << 20);
    assert!(
        got == truth,
        "stream_file returned other bytes than lamfat's read"
    );
    // 8 data requests, plus the directory lookup and the FAT sectors the
    // chain walk reads (cached): far below the 8192 of one per cluster.
    assert!(
        requests <= 8 + 16,
        "{requests} device reads for 8 MiB in 1 MiB pieces"
    );
    assert_eq!(v.read_file("/small.txt").unwrap(), b"small\n");
}

#[test]
fn fragmented_files_read_back_exactly() {
    // Files interleaved by appends, so their chains alternate.
    let (img, _) = build_image_bytes(&ImageSpec::parse(MANIFEST).unwrap()).unwrap();
    let v = Volume::mount(MemDisk::from_vec(img), TimeSource::Clock(clock)).unwrap();
    let pattern = |seed: u8, n: usize| -> Vec<u8> {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(seed).wrapping_add(seed))
            .collect()
    };
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for round in 0..12 {
        let pa = pattern(3 + round, 5000 + 700 * round as usize);
        let pb = pattern(101 + round, 4096 * (1 + round as usize % 3));
        v.append_file("/a.bin", &pa).unwrap();
        v.append_file("/b.bin", &pb).unwrap();
        a.extend_from_slice(&pa);
        b.extend_from_slice(&pb);
    }
    for (path, want) in [("/a.bin", &a), ("/b.bin", &b)] {
        for piece in [512usize, 4096, 10_000, 1 << 20] {
            let mut buf = vec![0u8; piece];
            let mut got = Vec::new();
            v.stream_file(path, &mut buf, &mut |x| got.extend_from_slice(x))
                .unwrap();
            assert!(&got == want, "{path} read in {piece}-byte pieces differs");
        }
        assert!(&v.read_file(path).unwrap() == want);
    }
}
