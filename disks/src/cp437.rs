//! Code page 437, the original IBM PC OEM code page, for FAT short (8.3)
//! names: bytes above 0x7f in a short name written by other tools (DOS,
//! Windows with an OEM code page, mtools) are shown as the characters CP437
//! gives them instead of U+FFFD. Encoding stays ASCII-only, as lamfat's
//! default converter does, so the short names we write (and so every image
//! we build) are unchanged.

/// CP437 characters 0x80..=0xFF (the Unicode Consortium's CP437 mapping).
const HIGH: [char; 128] = [
    'Ç', 'ü', 'é', 'â', 'ä', 'à', 'å', 'ç', 'ê', 'ë', 'è', 'ï', 'î', 'ì', 'Ä', 'Å', //
    'É', 'æ', 'Æ', 'ô', 'ö', 'ò', 'û', 'ù', 'ÿ', 'Ö', 'Ü', '¢', '£', '¥', '₧', 'ƒ', //
    'á', 'í', 'ó', 'ú', 'ñ', 'Ñ', 'ª', 'º', '¿', '⌐', '¬', '½', '¼', '¡', '«', '»', //
    '░', '▒', '▓', '│', '┤', '╡', '╢', '╖', '╕', '╣', '║', '╗', '╝', '╜', '╛', '┐', //
    '└', '┴', '┬', '├', '─', '┼', '╞', '╟', '╚', '╔', '╩', '╦', '╠', '═', '╬', '╧', //
    '╨', '╤', '╥', '╙', '╘', '╒', '╓', '╫', '╪', '┘', '┌', '█', '▄', '▌', '▐', '▀', //
    'α', 'ß', 'Γ', 'π', 'Σ', 'σ', 'µ', 'τ', 'Φ', 'Θ', 'Ω', 'δ', '∞', 'φ', 'ε', '∩', //
    '≡', '±', '≥', '≤', '⌠', '⌡', '÷', '≈', '°', '∙', '·', '√', 'ⁿ', '²', '■', '\u{a0}',
];

/// lamfat's OEM code page converter for CP437 (decode only; see the module
/// documentation).
#[derive(Debug, Clone, Copy, Default)]
pub struct Cp437;

impl lamfat::OemCpConverter for Cp437 {
    fn decode(&self, oem_char: u8) -> char {
        if oem_char < 0x80 {
            char::from(oem_char)
        } else {
            HIGH[usize::from(oem_char - 0x80)]
        }
    }

    fn encode(&self, uni_char: char) -> Option<u8> {
        uni_char.is_ascii().then_some(uni_char as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lamfat::OemCpConverter;

    #[test]
    fn decodes_the_oem_half_and_encodes_ascii_only() {
        let c = Cp437;
        assert_eq!(c.decode(b'A'), 'A');
        assert_eq!(c.decode(0x82), 'é');
        assert_eq!(c.decode(0x9a), 'Ü');
        assert_eq!(c.decode(0xe1), 'ß');
        assert_eq!(c.decode(0xff), '\u{a0}');
        assert_eq!(c.encode('A'), Some(b'A'));
        assert_eq!(c.encode('é'), None);
    }
}
