//! A body as a tree that knows what each value is, so that a property can damage one value or
//! member in a way the wire types must refuse, and know what the refusal says.

use keel_core::testing::json::Json;
use keel_core::testing::Rng;

/// What a value is to the wire type that reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Kind {
    /// A decimal in a string.
    Dec,
    I64,
    U64,
    U32,
    /// Any string.
    Str,
    /// One of these names (an enum).
    Name(&'static [&'static str]),
    Bool,
    /// A field the wire type ignores (or a value put in place by a damage).
    Extra,
}

#[derive(Debug, Clone)]
pub(super) enum Node {
    Leaf(Kind, Json),
    /// A list of any length.
    List(Vec<Node>),
    /// A row of fixed length (a kline row).
    Row(Vec<Node>),
    Obj(Vec<Member>),
}

#[derive(Debug, Clone)]
pub(super) struct Member {
    pub key: String,
    pub node: Node,
    /// Absent is an error (not `None`, not a default).
    pub required: bool,
}

pub(super) fn leaf(kind: Kind, json: Json) -> Node {
    Node::Leaf(kind, json)
}

impl Node {
    pub fn json(&self) -> Json {
        match self {
            Node::Leaf(_, json) => json.clone(),
            Node::List(items) | Node::Row(items) => {
                Json::Arr(items.iter().map(Node::json).collect())
            }
            Node::Obj(members) => Json::Obj(
                members
                    .iter()
                    .map(|m| (m.key.clone(), m.node.json()))
                    .collect(),
            ),
        }
    }

    fn at(&mut self, path: &[usize]) -> &mut Node {
        match path.split_first() {
            None => self,
            Some((&i, rest)) => match self {
                Node::List(items) | Node::Row(items) => items[i].at(rest),
                Node::Obj(members) => members[i].node.at(rest),
                Node::Leaf(..) => unreachable!("a path into a leaf"),
            },
        }
    }

    fn sites(&self, path: &mut Vec<usize>, required: bool, out: &mut Vec<(Vec<usize>, Site)>) {
        match self {
            Node::Leaf(Kind::Extra, _) => {}
            Node::Leaf(kind, _) => out.push((
                path.clone(),
                Site::Value {
                    kind: *kind,
                    required,
                },
            )),
            Node::List(items) | Node::Row(items) => {
                if let Node::Row(items) = self {
                    out.push((path.clone(), Site::Row { len: items.len() }));
                }
                for (i, item) in items.iter().enumerate() {
                    path.push(i);
                    item.sites(path, true, out);
                    path.pop();
                }
            }
            Node::Obj(members) => {
                for (i, m) in members.iter().enumerate() {
                    if matches!(m.node, Node::Leaf(Kind::Extra, _)) {
                        continue;
                    }
                    path.push(i);
                    out.push((path.clone(), Site::Member(m.required)));
                    m.node.sites(path, m.required, out);
                    path.pop();
                }
            }
        }
    }

    /// Damages one value or member at random; the text the refusal must contain.
    pub fn damage(&mut self, rng: &mut Rng) -> String {
        let mut sites = Vec::new();
        self.sites(&mut Vec::new(), true, &mut sites);
        if sites.is_empty() {
            // An empty list: the wrong type instead.
            *self = leaf(Kind::Extra, Json::Str("[]".into()));
            return "invalid type: string".into();
        }
        let (path, site) = rng.pick(&sites).clone();
        match site {
            Site::Value { kind, required } => {
                let (bad, says) = wrong_value(kind, required, rng);
                *self.at(&path) = leaf(Kind::Extra, bad);
                says
            }
            Site::Member(required) => {
                let (last, parent) = path.split_last().expect("a member has a parent");
                let Node::Obj(members) = self.at(parent) else {
                    unreachable!("a member's parent is an object")
                };
                let member = members[*last].clone();
                if required && rng.one_in(2) {
                    members.remove(*last);
                    format!("missing field `{}`", member.key)
                } else {
                    let at = rng.below(members.len() + 1);
                    let key = member.key.clone();
                    members.insert(at, member);
                    format!("duplicate field `{key}`")
                }
            }
            Site::Row { len } => {
                let Node::Row(items) = self.at(&path) else {
                    unreachable!("a row site is a row")
                };
                if rng.one_in(2) {
                    // Cut short (a value taken from the middle shifts the rest: some
                    // other refusal).
                    items.pop();
                    format!("invalid length {}", len - 1)
                } else {
                    items.push(leaf(Kind::Extra, Json::Str("0".into())));
                    // serde_json: "trailing characters" or "invalid length".
                    String::new()
                }
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Site {
    Value { kind: Kind, required: bool },
    Member(bool),
    Row { len: usize },
}

fn num(text: &str) -> Json {
    Json::Num(text.into())
}

/// A value a field of `kind` must refuse, and what the refusal says.
fn wrong_value(kind: Kind, required: bool, rng: &mut Rng) -> (Json, String) {
    // Null is `None` for an optional field, so only a required one must refuse it.
    if required && rng.one_in(8) {
        // serde_json reads an enum from `null` as a syntax error.
        let says = match kind {
            Kind::Name(_) => "expected value",
            _ => "invalid type: null",
        };
        return (Json::Null, says.into());
    }
    let invalid = |json: Json| (json, "invalid".to_string());
    match kind {
        Kind::Dec => match rng.below(3) {
            0 => {
                let n = rng.pick(&["0.1", "5", "12345678901234567.89", "1e3", "-0"]);
                (num(n), "expected a decimal in a string".into())
            }
            1 => {
                let text = rng.pick(&[
                    "", " 1", "1 ", "+1", "1e3", "1E-2", "1_000", ".5", "5.", "-", "--1", "1.2.3",
                    "NaN", "inf", "0x10", "１", "1,5",
                ]);
                (
                    Json::Str(text.to_string()),
                    format!("`{text}` is not a plain decimal"),
                )
            }
            _ => {
                let text = rng.pick(&[
                    "79228162514264337593543950336",
                    "0.00000000000000000000000000001",
                    "123456789012345678901234567890.5",
                    "-99999999999999999999999999999999",
                ]);
                (
                    Json::Str(text.to_string()),
                    format!("`{text}` does not fit a decimal"),
                )
            }
        },
        Kind::I64 => invalid(num(rng.pick::<&str>(&[
            "9223372036854775808",
            "-9223372036854775809",
            "1.5",
            "1e3",
            "-0",
            "1.0",
        ]))),
        Kind::U64 => invalid(num(rng.pick::<&str>(&[
            "-1",
            "18446744073709551616",
            "-9223372036854775808",
            "2.5",
            "1E2",
        ]))),
        Kind::U32 => invalid(num(rng.pick::<&str>(&["4294967296", "-1", "1.5"]))),
        Kind::Str => invalid(
            rng.pick(&[num("5"), Json::Bool(true), Json::Arr(vec![])])
                .clone(),
        ),
        Kind::Name(names) => {
            let name = rng.pick(names);
            let wrong = match rng.below(3) {
                0 => name.to_lowercase(),
                1 => format!("{name}X"),
                _ => format!(" {name}"),
            };
            (Json::Str(wrong), "unknown variant".into())
        }
        Kind::Bool => invalid(
            rng.pick(&[Json::Str("true".into()), num("1"), num("0")])
                .clone(),
        ),
        Kind::Extra => unreachable!("extra fields are not damaged"),
    }
}
