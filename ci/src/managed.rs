//! The managed side of the build: our corlib, the managed DDK and the managed
//! drivers, compiled from C# with mcs into `target/managed/` (skipped when the
//! outputs are newer than their sources; see `cil_compat::toolchain`).

use cil_compat::toolchain;
use std::path::PathBuf;

/// The managed assemblies in load order (corlib, DDK, drivers).
pub fn build_all() -> Result<Vec<PathBuf>, String> {
    let err = |e: cil_compat::error::Error| e.to_string();
    let src = toolchain::managed_src_dir();
    let mut out = vec![toolchain::corlib().map_err(err)?];
    let ddk_dir = src.join("ddk");
    if ddk_dir.is_dir() {
        let ddk =
            toolchain::build_library("Ddk", &toolchain::cs_files(&ddk_dir).map_err(err)?, &[])
                .map_err(err)?;
        out.push(ddk.clone());
        let driver_dir = src.join("drivers/virtio-blk");
        if driver_dir.is_dir() {
            let sources = toolchain::cs_files(&driver_dir).map_err(err)?;
            out.push(toolchain::build_library("VirtioBlk", &sources, &[ddk]).map_err(err)?);
        }
    }
    Ok(out)
}

pub fn main(_args: &[String]) -> Result<(), String> {
    crate::setup::ensure()?;
    for p in build_all()? {
        println!("{}", p.display());
    }
    Ok(())
}
