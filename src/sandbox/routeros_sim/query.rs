//! Query words (`?…`) evaluated on a stack of booleans, as documented for `print`.
//!
//! The stack behaves as if it started with infinitely many `true`: popping an empty stack or
//! indexing past its bottom yields `true`. An item matches when no `false` is left.

use crate::routeros::commands::parse_duration;

/// Rendered item: `(property, value)` pairs including `.id`.
pub(crate) type Row = [(String, Vec<u8>)];

fn get<'a>(row: &'a Row, name: &[u8]) -> Option<&'a [u8]> {
    row.iter()
        .find(|(k, _)| k.as_bytes() == name)
        .map(|(_, v)| v.as_slice())
}

fn split_eq(s: &[u8]) -> (&[u8], &[u8]) {
    match s.iter().skip(1).position(|b| *b == b'=') {
        Some(p) => (
            s.get(..p + 1).unwrap_or_default(),
            s.get(p + 2..).unwrap_or_default(),
        ),
        None => (s, &[]),
    }
}

fn norm_bool(v: &[u8]) -> &[u8] {
    match v {
        b"yes" => b"true",
        b"no" => b"false",
        other => other,
    }
}

fn equal(name: &[u8], have: &[u8], want: &[u8]) -> bool {
    if name == b"mac-address" {
        return have.eq_ignore_ascii_case(want);
    }
    norm_bool(have) == norm_bool(want)
}

fn compare(have: &[u8], want: &[u8]) -> std::cmp::Ordering {
    let (h, w) = (String::from_utf8_lossy(have), String::from_utf8_lossy(want));
    if let (Ok(a), Ok(b)) = (h.parse::<i128>(), w.parse::<i128>()) {
        return a.cmp(&b);
    }
    if let (Some(a), Some(b)) = (parse_duration(&h), parse_duration(&w)) {
        return a.cmp(&b);
    }
    have.cmp(want)
}

/// Whether `row` matches the query words (each given without its leading `?`).
pub(crate) fn matches(row: &Row, queries: &[Vec<u8>]) -> bool {
    let mut stack: Vec<bool> = Vec::new();
    for q in queries {
        match q.first() {
            Some(b'#') => apply_ops(&mut stack, q.get(1..).unwrap_or_default()),
            Some(b'=') => {
                let (n, v) = split_eq(q.get(1..).unwrap_or_default());
                stack.push(get(row, n).is_some_and(|h| equal(n, h, v)));
            }
            Some(b'-') => stack.push(get(row, q.get(1..).unwrap_or_default()).is_none()),
            Some(c @ (b'<' | b'>')) => {
                let (n, v) = split_eq(q.get(1..).unwrap_or_default());
                let want = if *c == b'<' {
                    std::cmp::Ordering::Less
                } else {
                    std::cmp::Ordering::Greater
                };
                stack.push(get(row, n).is_some_and(|h| compare(h, v) == want));
            }
            _ => {
                if q.contains(&b'=') {
                    let (n, v) = split_eq(q);
                    stack.push(get(row, n).is_some_and(|h| equal(n, h, v)));
                } else {
                    stack.push(get(row, q).is_some());
                }
            }
        }
    }
    stack.iter().all(|b| *b)
}

fn pick(stack: &[bool], idx: usize) -> bool {
    stack
        .len()
        .checked_sub(1 + idx)
        .and_then(|i| stack.get(i).copied())
        .unwrap_or(true)
}

fn apply_ops(stack: &mut Vec<bool>, ops: &[u8]) {
    let mut i = 0;
    let mut after_index = false;
    while let Some(&c) = ops.get(i) {
        if c.is_ascii_digit() {
            let start = i;
            while ops.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            let idx: usize = std::str::from_utf8(ops.get(start..i).unwrap_or_default())
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(usize::MAX);
            let v = pick(stack, idx);
            if i >= ops.len() {
                // Index at the end of the word replaces the whole stack.
                stack.clear();
                stack.push(v);
            } else {
                stack.push(v);
            }
            after_index = true;
            continue;
        }
        match c {
            b'!' => {
                let v = stack.pop().unwrap_or(true);
                stack.push(!v);
            }
            b'&' => {
                let a = stack.pop().unwrap_or(true);
                let b = stack.pop().unwrap_or(true);
                stack.push(a && b);
            }
            b'|' => {
                let a = stack.pop().unwrap_or(true);
                let b = stack.pop().unwrap_or(true);
                stack.push(a || b);
            }
            b'.' if !after_index => {
                let v = stack.last().copied().unwrap_or(true);
                stack.push(v);
            }
            _ => {}
        }
        after_index = false;
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pairs: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect()
    }

    fn q(words: &[&str]) -> Vec<Vec<u8>> {
        words.iter().map(|w| w.as_bytes().to_vec()).collect()
    }

    #[test]
    fn forms() {
        let r = row(&[
            ("name", "a"),
            ("type", "vlan"),
            ("n", "10"),
            ("disabled", "false"),
        ]);
        assert!(matches(&r, &q(&["name=a"])));
        assert!(matches(&r, &q(&["=name=a"])));
        assert!(!matches(&r, &q(&["=name=b"])));
        assert!(matches(&r, &q(&["name"])));
        assert!(!matches(&r, &q(&["comment"])));
        assert!(matches(&r, &q(&["-comment"])));
        assert!(matches(&r, &q(&["<n=11"])));
        assert!(matches(&r, &q(&[">n=9"])));
        assert!(!matches(&r, &q(&[">n=10"])));
        assert!(matches(&r, &q(&["type=ether", "type=vlan", "#|"])));
        assert!(!matches(&r, &q(&["type=ether", "type=wlan", "#|"])));
        assert!(matches(&r, &q(&["type=ether", "#!"])));
        assert!(matches(&r, &q(&["disabled=no"])));
        assert!(matches(&r, &q(&[])));
        // Index at end replaces the stack: [false, true] -> "1" picks false.
        assert!(!matches(&r, &q(&["name=z", "name=a", "#1"])));
        assert!(matches(&r, &q(&["name=z", "name=a", "#0"])));
    }
}
