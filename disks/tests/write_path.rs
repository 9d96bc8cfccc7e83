//! Writing a large file through fatfs: the data leaves the block stream as
//! large device requests (write combining), not one request per cluster.

use ddk::{BlockDevice, BlockError, Lba};
use disks::build::build_image_bytes;
use disks::fs::Volume;
use disks::mem::MemDisk;
use disks::{ImageSpec, TimeSource, Timestamp};
use lamfat::Write as _;

/// A MemDisk that counts write requests and the bytes they carry.
struct Counting {
    inner: MemDisk,
    writes: u64,
    write_bytes: u64,
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
        self.writes += 1;
        self.write_bytes += buf.len() as u64;
        self.inner.write_blocks(lba, buf)
    }
    fn flush(&mut self) -> Result<(), BlockError> {
        self.inner.flush()
    }
}

const MANIFEST: &str = r#"
image-size   320MiB
cluster-size 4K
label        WRITES
volume-id    0x20261206
timestamp    2026-12-06 08:00:00
file /small.txt text "small\n"
"#;

fn clock() -> Timestamp {
    Timestamp::new(2026, 12, 6, 10, 0, 0)
}

#[test]
fn a_large_file_is_written_in_large_requests() {
    let (img, _) = build_image_bytes(&ImageSpec::parse(MANIFEST).unwrap()).unwrap();
    let dev = Counting {
        inner: MemDisk::from_vec(img),
        writes: 0,
        write_bytes: 0,
        reads: 0,
    };
    let v = Volume::mount(dev, TimeSource::Clock(clock)).unwrap();
    const SIZE: usize = 64 << 20;
    let chunk: Vec<u8> = (0..1usize << 20)
        .map(|i| (i as u8).wrapping_mul(31))
        .collect();
    let (w0, r0) = v.with_device(|d| (d.writes, d.reads));
    {
        let mut f = v.create_file("/out.bin").unwrap();
        for _ in 0..SIZE / chunk.len() {
            f.write_all(&chunk).unwrap();
        }
        f.flush().unwrap();
    }
    v.flush().unwrap();
    let (w1, r1, bytes) = v.with_device(|d| (d.writes, d.reads, d.write_bytes));
    eprintln!(
        "64 MiB through fatfs: {} write requests ({} bytes), {} reads",
        w1 - w0,
        bytes,
        r1 - r0
    );
    let back = v.read_file("/out.bin").unwrap();
    assert_eq!(back.len(), SIZE);
    assert!(back.chunks(chunk.len()).all(|c| c == &chunk[..]));
    // 64 data requests of 1 MiB, plus FAT sectors, FSInfo and the directory
    // entry: far from the 16,384 of one request per cluster.
    assert!(w1 - w0 <= 64 + 256, "{} write requests", w1 - w0);
}
