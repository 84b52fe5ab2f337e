//! A fast path for the header regex of a format that ends with `<Content>`.
//!
//! Most formats are fields separated by plain text and whitespace runs, perhaps with an
//! optional group (`(\[<PID>\])?`). The regex matches leftmost-first: of all the ways to match,
//! it takes the first in its preference order (a lazy field as short as possible, `\s+` as long
//! as possible, an optional group taken rather than skipped). This matcher walks only that
//! first way: each field ends at the first byte where what follows it can start. When the walk
//! succeeds, it is the regex's match. When it fails after a choice that could have been made
//! differently, or meets a non-ASCII byte where `\s` might match Unicode whitespace, it gives up
//! and the caller asks the regex, so results never differ, only the speed does.

/// One element of a header pattern.
#[derive(Debug, Clone)]
enum Node {
    /// A field: `(?s-u:.)*?`.
    Field,
    /// Literal bytes.
    Lit(Box<[u8]>),
    /// `\s+`, from a run of spaces in the format.
    Ws,
    /// `( ... )?`, greedy.
    Opt(Vec<Node>),
}

/// Where a lazy field may end: the bytes the rest of the pattern can start with.
#[derive(Debug, Clone)]
enum Stop {
    /// Anywhere (the field is empty on the first way).
    Any,
    Byte(u8),
    /// ASCII whitespace, or a byte `>= 0x80` for `Ws` to give up on.
    Space,
    Set(Box<[bool; 256]>),
}

/// The flattened pattern.
#[derive(Debug, Clone)]
enum Ins {
    Byte(u8),
    Lit(Box<[u8]>),
    Ws,
    Field(Stop),
    /// An optional group whose body follows; skipping it continues at the index given.
    Opt(usize),
}

/// A compiled header (the format up to its final `<Content>` field).
#[derive(Debug, Clone)]
pub(crate) struct Header {
    prog: Vec<Ins>,
}

impl Header {
    /// Compiles `format` when it ends with `<Content>` and its text between fields uses only
    /// plain characters, escaped metacharacters, runs of spaces and `( ... )?` groups.
    pub(crate) fn compile(format: &str) -> Option<Header> {
        let body = format.strip_suffix("<Content>")?;
        let (nodes, rest) = parse(body.as_bytes(), 0)?;
        if rest != body.len() {
            return None;
        }
        let mut prog = Vec::new();
        flatten(&nodes, &mut prog);
        let firsts: Vec<[bool; 256]> = (0..=prog.len()).map(|i| first_set(&prog, i)).collect();
        for (i, ins) in prog.iter_mut().enumerate() {
            if let Ins::Field(stop) = ins {
                let set = &firsts[i + 1];
                let n = set.iter().filter(|&&x| x).count();
                *stop = if n == 256 {
                    Stop::Any
                } else if n == 1 {
                    Stop::Byte(set.iter().position(|&x| x).unwrap_or(0) as u8)
                } else if *set == space_set() {
                    Stop::Space
                } else {
                    Stop::Set(Box::new(*set))
                };
            }
        }
        Some(Header { prog })
    }

    /// Where the header ends in `line` (the content starts there), or `None` when the line
    /// does not match or the walk gave up: ask the regex then.
    pub(crate) fn end(&self, b: &[u8]) -> Option<usize> {
        let prog = &self.prog;
        // Optional groups entered since the last other choice, innermost last: (skip, at).
        let mut opts: [(usize, usize); 4] = [(0, 0); 4];
        let mut n_opts = 0;
        let (mut pc, mut p) = (0, 0);
        while pc < prog.len() {
            let ok = match &prog[pc] {
                Ins::Byte(x) => {
                    let ok = b.get(p) == Some(x);
                    p += 1;
                    ok
                }
                Ins::Lit(l) => {
                    let ok = b[p..].starts_with(l);
                    p += l.len();
                    ok
                }
                Ins::Ws => {
                    let mut e = p;
                    while e < b.len() && is_ws(b[e]) {
                        e += 1;
                    }
                    if e < b.len() && b[e] >= 0x80 {
                        return None;
                    }
                    if e > p + 1 {
                        n_opts = 0; // a shorter run is another choice
                    }
                    let ok = e > p;
                    p = e;
                    ok
                }
                Ins::Field(stop) => {
                    // Failing after this choice would need backtracking: give up instead.
                    n_opts = 0;
                    p = match stop {
                        Stop::Any => p,
                        Stop::Byte(x) => find_byte(b, p, *x),
                        Stop::Space => find_space(b, p),
                        Stop::Set(set) => p + b[p..].iter().position(|&c| set[c as usize])?,
                    };
                    p < b.len() || matches!(stop, Stop::Any)
                }
                Ins::Opt(skip) => {
                    if n_opts == opts.len() {
                        return None;
                    }
                    opts[n_opts] = (*skip, p);
                    n_opts += 1;
                    true
                }
            };
            if ok {
                pc += 1;
            } else if n_opts > 0 {
                // The only choice since the group began: skip it.
                n_opts -= 1;
                (pc, p) = opts[n_opts];
            } else {
                return None;
            }
        }
        Some(p)
    }
}

fn flatten(nodes: &[Node], prog: &mut Vec<Ins>) {
    for n in nodes {
        match n {
            Node::Field => prog.push(Ins::Field(Stop::Any)),
            Node::Lit(l) if l.len() == 1 => prog.push(Ins::Byte(l[0])),
            Node::Lit(l) => prog.push(Ins::Lit(l.clone())),
            Node::Ws => prog.push(Ins::Ws),
            Node::Opt(inner) => {
                let at = prog.len();
                prog.push(Ins::Opt(0));
                flatten(inner, prog);
                prog[at] = Ins::Opt(prog.len());
            }
        }
    }
}

fn space_set() -> [bool; 256] {
    std::array::from_fn(|c| c >= 0x80 || is_ws(c as u8))
}

/// Bytes that the pattern from instruction `i` on can start with (all bytes if it can be empty).
fn first_set(prog: &[Ins], i: usize) -> [bool; 256] {
    match prog.get(i) {
        None | Some(Ins::Field(_)) => [true; 256],
        Some(Ins::Byte(x)) => {
            let mut s = [false; 256];
            s[*x as usize] = true;
            s
        }
        Some(Ins::Lit(l)) => {
            let mut s = [false; 256];
            s[l[0] as usize] = true;
            s
        }
        Some(Ins::Ws) => space_set(),
        Some(Ins::Opt(skip)) => {
            let (mut a, b) = (first_set(prog, i + 1), first_set(prog, *skip));
            for c in 0..256 {
                a[c] |= b[c];
            }
            a
        }
    }
}

/// ASCII bytes in `\s`; Unicode whitespace outside ASCII is handled by giving up.
fn is_ws(c: u8) -> bool {
    const MASK: u64 = 1 << b'\t' | 1 << b'\n' | 1 << 0x0b | 1 << 0x0c | 1 << b'\r' | 1 << b' ';
    c <= b' ' && MASK >> c & 1 != 0
}

/// Parses nodes from `f[at..]` until the end or an unmatched `)`; returns where it stopped.
fn parse(f: &[u8], mut at: usize) -> Option<(Vec<Node>, usize)> {
    let mut nodes = Vec::new();
    let mut lit = Vec::new();
    let flush = |lit: &mut Vec<u8>, nodes: &mut Vec<Node>| {
        if !lit.is_empty() {
            nodes.push(Node::Lit(std::mem::take(lit).into_boxed_slice()));
        }
    };
    while at < f.len() {
        let c = f[at];
        match c {
            b'<' => {
                // Same rule as `LogFormat::parse`: `<name>` with no `<` inside is a field.
                let close = f[at + 1..].iter().position(|&x| x == b'<' || x == b'>');
                match close {
                    Some(k) if f[at + 1 + k] == b'>' => {
                        flush(&mut lit, &mut nodes);
                        nodes.push(Node::Field);
                        at += k + 2;
                    }
                    _ => {
                        lit.push(c);
                        at += 1;
                    }
                }
            }
            b' ' => {
                flush(&mut lit, &mut nodes);
                nodes.push(Node::Ws);
                while at < f.len() && f[at] == b' ' {
                    at += 1;
                }
            }
            b'\\' => {
                // Escaped metacharacters only (`\<` is a word boundary, `\d` a class).
                let &e = f.get(at + 1)?;
                if !b"\\.+*?()|[]{}^$#&-~".contains(&e) {
                    return None;
                }
                lit.push(e);
                at += 2;
            }
            b'(' => {
                if f.get(at + 1) == Some(&b'?') {
                    return None;
                }
                flush(&mut lit, &mut nodes);
                let (inner, end) = parse(f, at + 1)?;
                if f.get(end) != Some(&b')') || f.get(end + 1) != Some(&b'?') {
                    return None;
                }
                // `)??` would be lazy, `)?+` is an error: leave both to the regex.
                if matches!(f.get(end + 2), Some(b'?' | b'+' | b'*' | b'{')) {
                    return None;
                }
                nodes.push(Node::Opt(inner));
                at = end + 2;
            }
            b')' => break,
            b'.' | b'*' | b'+' | b'?' | b'[' | b']' | b'{' | b'}' | b'|' | b'^' | b'$' => {
                return None;
            }
            c if c.is_ascii_whitespace() => return None,
            _ => {
                lit.push(c);
                at += 1;
            }
        }
    }
    flush(&mut lit, &mut nodes);
    Some((nodes, at))
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

#[inline]
fn word(b: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[i..i + 8]);
    u64::from_le_bytes(w)
}

/// Index of the first `x` in `b[i..]`, or `b.len()`.
fn find_byte(b: &[u8], i: usize, x: u8) -> usize {
    memchr::memchr(x, &b[i..]).map_or(b.len(), |k| i + k)
}

/// Index of the first byte in `b[i..]` that is `<= b' '` or `>= 0x80`, or `b.len()`; eight
/// bytes at a time (a class of 34 bytes and everything above 0x7f, which memchr's one to three
/// needles do not cover).
fn find_space_or_high(b: &[u8], mut i: usize) -> usize {
    while i + 8 <= b.len() {
        let w = word(b, i);
        let m = (w.wrapping_sub(LO * 0x21) & !w | w) & HI;
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && b[i] > b' ' && b[i] < 0x80 {
        i += 1;
    }
    i
}

/// Index of the first ASCII whitespace or byte `>= 0x80` in `b[i..]`, or `b.len()`.
#[inline]
fn find_space(b: &[u8], i: usize) -> usize {
    let mut e = find_space_or_high(b, i);
    while e < b.len() && b[e] < 0x80 && !is_ws(b[e]) {
        e = find_space_or_high(b, e + 1);
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_plain_formats_only() {
        assert!(Header::compile("<Date> <Time> <Level> <Component>: <Content>").is_some());
        assert!(Header::compile(r"<Month> <Date> <Component>(\[<PID>\])?: <Content>").is_some());
        assert!(Header::compile(r"<A> ( \(<B>\))?: <Content>").is_some());
        assert!(Header::compile("<Date> <Content> <Level>").is_none());
        assert!(Header::compile(r"<Date>\s<Content>").is_none());
        assert!(Header::compile(r"<Date> (?:x)? <Content>").is_none());
        assert!(Header::compile(r"<Date> a|b <Content>").is_none());
        assert!(Header::compile(r"<Date> (x)?? <Content>").is_none());
        assert!(Header::compile(r"<Date> \<x <Content>").is_none());
        assert!(Header::compile(r"<Date> - <Level>  \[<Node>:<C>@<Id>\] - <Content>").is_some());
    }

    #[test]
    fn matches_like_the_regex() {
        let h = Header::compile(r"<Component>(\[<PID>\])?: <Content>").unwrap();
        assert_eq!(h.end(b"sshd[42]: hi"), Some(10));
        assert_eq!(h.end(b"kernel: hi"), Some(8));
        assert_eq!(h.end(b"kernel hi"), None);
        let h = Header::compile("<A> <B>: <Content>").unwrap();
        assert_eq!(h.end(b"a  b:   c"), Some(8));
        assert_eq!(h.end("a\u{a0}b: c".as_bytes()), None);
    }

    #[test]
    fn word_scans() {
        let b = b"0123456789abcdef ghij\x80k\tx";
        for i in 0..b.len() {
            let want = b[i..]
                .iter()
                .position(|&c| c == b'x')
                .map_or(b.len(), |k| i + k);
            assert_eq!(find_byte(b, i, b'x'), want);
            let want = b[i..]
                .iter()
                .position(|&c| c <= b' ' || c >= 0x80)
                .map_or(b.len(), |k| i + k);
            assert_eq!(find_space_or_high(b, i), want);
        }
    }
}
