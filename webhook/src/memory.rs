//! Keeping the server's memory flat over millions of reviews.
//!
//! The allocator (mimalloc, the binary's global allocator) asks the kernel for transparent
//! huge pages (`madvise(MADV_HUGEPAGE)`) and returns freed memory in 64 KiB pieces. On a
//! kernel with THP in `madvise` mode and khugepaged's default `max_ptes_none` (511 of 512
//! pages may be empty), khugepaged collapses every such 2 MiB range again every 10 s, filling
//! what was returned with zeroes: resident memory grows by a few MiB per scan and never comes
//! back, though the live heap does not change. Measured on the 250,000-review soak after the
//! cost bombs (`bench/attack/attack.py`): 112 → 177 MiB with huge pages, flat at 73 MiB
//! without. The webhook gains nothing from huge pages (its heap is small and short-lived), so
//! it opts out for the whole process.

/// Turns transparent huge pages off for this process (Linux `PR_SET_THP_DISABLE`; the kernel
/// then neither faults nor collapses huge pages for it); nothing elsewhere. Pages already
/// huge stay so until freed, hence `celador serve` calls this before it loads the packs
/// ([`crate::Server::bind`] calls it too). Failure leaves the process as it was, which is
/// harmless.
#[allow(unsafe_code)]
pub fn disable_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE reads its integer arguments only and changes a flag of the
    // calling process.
    unsafe {
        libc::prctl(
            libc::PR_SET_THP_DISABLE,
            1 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        );
    }
}
