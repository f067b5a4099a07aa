//! Checks a requested allocation against the machine's physical memory, so that a request
//! that cannot fit is a one-line error naming its size instead of an aborted allocation
//! (docs/DESIGN.md section 8).

/// A request for more bytes than the machine has.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{what} needs {} but this machine has {}", format_bytes(*.needed_bytes), format_bytes(*.available_bytes))]
pub struct OutOfMemory {
    /// Bytes the request needs (`u128::MAX` when the count itself overflowed).
    pub needed_bytes: u128,
    /// Total physical memory of the machine.
    pub available_bytes: u128,
    /// What needs it, e.g. "the spectrum" or "the random weights".
    pub what: String,
}

/// Total physical memory in bytes (`sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGE_SIZE)` on
/// Unix), or `None` when it cannot be determined.
pub fn total_memory() -> Option<u128> {
    #[cfg(unix)]
    {
        // SAFETY: sysconf only reads system configuration values.
        let (pages, page_size) = unsafe {
            (
                libc::sysconf(libc::_SC_PHYS_PAGES),
                libc::sysconf(libc::_SC_PAGE_SIZE),
            )
        };
        if pages > 0 && page_size > 0 {
            return Some(pages as u128 * page_size as u128);
        }
    }
    None
}

/// `Ok` when `needed_bytes` (`None`: the size computation overflowed) fits in the machine's
/// physical memory, or when that memory is unknown; otherwise [`OutOfMemory`] for `what`.
pub fn fits(needed_bytes: Option<u128>, what: &str) -> Result<(), OutOfMemory> {
    let Some(available_bytes) = total_memory() else {
        return Ok(());
    };
    fits_in(needed_bytes, available_bytes, what)
}

/// [`fits`] against a given amount of memory.
pub fn fits_in(
    needed_bytes: Option<u128>,
    available_bytes: u128,
    what: &str,
) -> Result<(), OutOfMemory> {
    let needed_bytes = needed_bytes.unwrap_or(u128::MAX);
    if needed_bytes <= available_bytes {
        return Ok(());
    }
    Err(OutOfMemory {
        needed_bytes,
        available_bytes,
        what: what.to_string(),
    })
}

/// The product of `factors` in `u128`, `None` on overflow.
pub fn checked_product(factors: &[usize]) -> Option<u128> {
    factors
        .iter()
        .try_fold(1u128, |acc, &f| acc.checked_mul(f as u128))
}

/// Bytes in decimal units with one decimal: `"320.0 GB"`, `"512 B"`; `u128::MAX` is
/// "more than 2^128 bytes".
pub fn format_bytes(bytes: u128) -> String {
    if bytes == u128::MAX {
        return "more than 2^128 bytes".to_string();
    }
    const UNITS: [&str; 6] = ["kB", "MB", "GB", "TB", "PB", "EB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_larger_than_the_machine_names_both_sizes() {
        let err = fits_in(Some(320_000_000_000), 23_400_000_000, "the spectrum").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the spectrum needs 320.0 GB but this machine has 23.4 GB"
        );
        assert!(fits_in(Some(1000), 1000, "x").is_ok());
        let overflow = fits_in(None, 1000, "the weights").unwrap_err();
        assert_eq!(overflow.needed_bytes, u128::MAX);
        assert!(overflow.to_string().contains("more than 2^128 bytes"));
    }

    #[test]
    fn sizes_and_products() {
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(1_500), "1.5 kB");
        assert_eq!(format_bytes(19_200_000_000_000), "19.2 TB");
        assert_eq!(
            checked_product(&[3, 8, 100_000_000_000, 8]),
            Some(19_200_000_000_000)
        );
        assert_eq!(checked_product(&[usize::MAX, usize::MAX, usize::MAX]), None);
        assert!(total_memory().is_some_and(|m| m > 0));
    }
}
