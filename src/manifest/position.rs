//! Byte offsets into 1-based line:column positions, the way editors count them.
//!
//! Columns count characters, not bytes, as the YAML parser does. Pure; no I/O.

/// Walks a text forward, so that positions asked for in increasing order cost linear time in
/// total even for a 20 MB single-line input.
pub struct Positions<'a> {
    text: &'a [u8],
    offset: usize,
    line: usize,
    column: usize,
}

impl<'a> Positions<'a> {
    pub fn new(text: &'a [u8]) -> Self {
        Positions {
            text,
            offset: 0,
            line: 1,
            column: 1,
        }
    }

    /// The 1-based (line, column) of byte `offset`. An offset past the end is taken as the
    /// end; asking for an earlier offset than the last one starts over from the top.
    pub fn at(&mut self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        if offset < self.offset {
            *self = Positions::new(self.text);
        }
        for &byte in &self.text[self.offset..offset] {
            if byte == b'\n' {
                self.line += 1;
                self.column = 1;
            } else if byte & 0xC0 != 0x80 {
                // A UTF-8 lead byte (or ASCII): one more character.
                self.column += 1;
            }
        }
        self.offset = offset;
        (self.line, self.column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_lines_and_characters() {
        let text = "ab\ncdé\nf".as_bytes();
        let mut positions = Positions::new(text);
        assert_eq!(positions.at(0), (1, 1));
        assert_eq!(positions.at(1), (1, 2));
        assert_eq!(positions.at(3), (2, 1));
        // 'é' is two bytes: the newline after it is the fourth character of line 2.
        assert_eq!(positions.at(7), (2, 4));
        assert_eq!(positions.at(8), (3, 1));
    }

    #[test]
    fn going_back_and_past_the_end_work() {
        let mut positions = Positions::new(b"a\nb");
        assert_eq!(positions.at(99), (2, 2));
        assert_eq!(positions.at(1), (1, 2));
    }
}
