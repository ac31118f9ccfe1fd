//! Big numbers for the stock counter: a 3×5 block font, readable from the
//! back of a room where a plain digit is a smudge.

/// Rows of one glyph.
pub const HEIGHT: u16 = 5;

fn glyph(c: char) -> Option<[&'static str; 5]> {
    Some(match c {
        '0' => ["███", "█ █", "█ █", "█ █", "███"],
        '1' => [" █ ", "██ ", " █ ", " █ ", "███"],
        '2' => ["███", "  █", "███", "█  ", "███"],
        '3' => ["███", "  █", "███", "  █", "███"],
        '4' => ["█ █", "█ █", "███", "  █", "  █"],
        '5' => ["███", "█  ", "███", "  █", "███"],
        '6' => ["███", "█  ", "███", "█ █", "███"],
        '7' => ["███", "  █", "  █", "  █", "  █"],
        '8' => ["███", "█ █", "███", "█ █", "███"],
        '9' => ["███", "█ █", "███", "  █", "███"],
        '-' => ["   ", "   ", "███", "   ", "   "],
        _ => return None,
    })
}

/// Columns `n` takes in the big font.
pub fn width(n: i64) -> u16 {
    let chars = n.to_string().chars().count() as u16;
    chars * 4 - 1
}

/// The rows of `n` in the big font, glyphs one column apart.
pub fn big(n: i64) -> Vec<String> {
    let text = n.to_string();
    (0..HEIGHT as usize)
        .map(|row| {
            text.chars()
                .filter_map(glyph)
                .map(|g| g[row])
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_negative_number_has_its_minus_and_every_digit() {
        let rows = big(-40);
        assert_eq!(rows.len(), 5);
        assert_eq!(rows[2], "███ ███ █ █");
        assert!(rows
            .iter()
            .all(|r| r.chars().count() == usize::from(width(-40))));
    }
}
