//! Native HTTP (SPEC §3.4): a module-level `requests.get/post/...` (or sync `httpx.get/...`)
//! call in a statement becomes an `httpx.AsyncClient` request in a block of its own:
//!
//! ```python
//! async with httpx.AsyncClient(follow_redirects=True) as client:
//!     r = await client.get(url, timeout=None)
//! ```
//!
//! only where the translation is exact: requests follows redirects (not for `head`) and has no
//! default timeout, so `follow_redirects=True` and `timeout=None` say so; `allow_redirects=`
//! becomes `follow_redirects=`; `params`, `headers`, `json`, `cookies`, `auth` tuples and a
//! literal `timeout` pass as they are; `data=` a dict literal stays `data=`, a str/bytes literal
//! becomes `content=`. The response may only be used through attributes with the same meaning
//! (`status_code`, `text`, `content`, `json()`, `headers`, `raise_for_status()`, `encoding`;
//! `.ok` becomes `status_code < 400`), and `except requests.exceptions.X` handlers around the
//! call are translated. Anything else keeps the thread fix.

use tree_sitter::Node;

use crate::fix::edits::{Applicability, Edit, Fix};
use crate::fix::model::{FixKind, Planned, give_to_nodes};
use crate::parse::syntax::{
    children, enclosing_statement, is_field, named_children, text, unparenthesize, within,
};
use crate::resolve::Resolver;

/// The name catalog entries use for this rewrite (the requests and client methods it takes).
pub const NAME: &str = "httpx";
/// httpx's `get`, `head`, `options` and `delete` take no body.
const BODYLESS: &[&str] = &["get", "head", "options", "delete"];
/// Response attributes that mean the same in httpx. Not `text` (a `text/*` body without a
/// charset decodes as latin-1 in requests, utf-8 in httpx), not `encoding`, `url` (a URL
/// object), `history`; `headers` only indexed or through `.get()` (both case-insensitive;
/// `.items()` gives lower-cased names in httpx).
const SAME_ATTRIBUTES: &[&str] = &["status_code", "content"];
/// Not `raise_for_status()`: httpx also raises on an unfollowed 3xx.
const SAME_METHODS: &[&str] = &["json"];
/// The only handlers translated: `HTTPError` comes from `raise_for_status()` alone, which the
/// swap never keeps, so neither side raises it for the call. `ConnectionError` and `Timeout`
/// have no httpx counterpart catching the same errors (requests' `ConnectionError` also covers
/// a dropped connection and a timeout while reading the body), so a handler naming them keeps
/// the thread fix, as does any other requests exception.
const EXCEPTIONS: &[(&str, &str)] = &[
    ("requests.exceptions.HTTPError", "HTTPStatusError"),
    ("requests.HTTPError", "HTTPStatusError"),
];
/// Builtin bases of requests' exceptions (`RequestException` is an `IOError`, `InvalidURL` a
/// `ValueError`): a handler naming one catches requests' errors but not httpx's.
const BUILTIN_BASES: &[&str] = &["OSError", "IOError", "EnvironmentError", "ValueError"];

/// Gives thread-fixed module-level HTTP calls the `httpx.AsyncClient` rewrite where it is exact.
pub fn use_async_http<'t>(planned: &mut [Planned<'t>], resolver: &Resolver<'t>) {
    for i in 0..planned.len() {
        if planned[i].kind() != FixKind::Thread {
            continue;
        }
        let call = planned[i].finding.node;
        let qualified = planned[i].finding.call.clone();
        let Some(fix) = convert(resolver, call, &qualified, planned) else {
            continue;
        };
        planned[i].take_fix(FixKind::Native, fix);
    }
}

fn convert<'t>(
    resolver: &Resolver<'t>,
    call: Node<'t>,
    qualified: &str,
    planned: &[Planned<'t>],
) -> Option<Fix> {
    let src = resolver.src();
    let (library, method) = qualified.split_once('.')?;
    if !matches!(library, "requests" | "httpx")
        || resolver.catalog().native_of_call(qualified) != Some(NAME)
    {
        return None;
    }
    let from_requests = library == "requests";
    let statement = enclosing_statement(resolver.root(), call);
    if !matches!(
        statement.kind(),
        "expression_statement" | "return_statement"
    ) || statement.parent().is_none_or(|p| p.kind() != "block")
        || crate::parse::syntax::in_generator_scope(call)
    {
        return None;
    }
    let function = crate::resolve::enclosing_function(statement)?;
    if crate::parse::syntax::in_nested_scope(call, function) {
        return None;
    }
    // `self.n += r.status_code` read before the await and written after it would lose a
    // concurrent update: the thread fix goes to a temporary on the line before instead.
    if crate::fix::temporaries::shared_target_read_first(resolver, statement, function).is_some() {
        return None;
    }
    // No other finding in the statement: it moves into a block of its own.
    if planned
        .iter()
        .any(|p| p.finding.node.id() != call.id() && within(p.finding.node, statement))
    {
        return None;
    }
    let arguments = request_arguments(resolver, call, method, from_requests)?;
    let mut edits: Vec<Edit> = Vec::new();
    response_uses(resolver, call, statement, function, &mut edits)?;
    translate_handlers(
        resolver,
        call,
        &[call],
        function,
        planned,
        from_requests,
        &mut edits,
    )?;

    let httpx = resolver.module_alias_for("httpx");
    let module = httpx.clone().unwrap_or_else(|| "httpx".to_string());
    let client = crate::parse::syntax::free_name(src, function, "client");
    let follow = from_requests && method != "head" && !arguments.explicit_redirects;
    let client_args = if follow { "follow_redirects=True" } else { "" };
    let parens = crate::parse::syntax::needs_parentheses(call);
    let request = format!(
        "{}await {client}.{}({}){}",
        if parens { "(" } else { "" },
        if method == "request" {
            "request"
        } else {
            method
        },
        arguments.text.join(", "),
        if parens { ")" } else { "" }
    );
    // The statement's own edits (the request and any `.ok` in it) are applied to its text.
    let mut inner: Vec<Edit> = edits
        .iter()
        .filter(|e| e.start >= statement.start_byte() && e.end <= statement.end_byte())
        .cloned()
        .collect();
    edits.retain(|e| !(e.start >= statement.start_byte() && e.end <= statement.end_byte()));
    inner.push(Edit::replace(call.start_byte(), call.end_byte(), request));
    inner.sort_by_key(|e| (e.start, e.end));
    if inner.windows(2).any(|w| w[1].start < w[0].end) {
        return None;
    }
    let body = crate::fix::edits::splice_within(src, statement, &inner);
    edits.push(crate::fix::edits::in_async_with(
        src,
        statement,
        function,
        &format!("{module}.AsyncClient({client_args})"),
        &client,
        &body,
    )?);
    Some(Fix {
        applicability: Applicability::Unsafe,
        edits,
        needs: if httpx.is_none() {
            vec!["httpx"]
        } else {
            Vec::new()
        },
    })
}

/// `with requests.Session() as s:` whose every use of `s` is a request whose response is used
/// with the same meaning → `async with httpx.AsyncClient(follow_redirects=True) as s:` with the
/// requests awaited (`head` keeps `follow_redirects=False`, as requests does).
pub fn use_async_sessions<'t>(planned: &mut [Planned<'t>], resolver: &Resolver<'t>) {
    let mut done: Vec<usize> = Vec::new();
    for i in 0..planned.len() {
        let call = &planned[i].finding.call;
        if planned[i].kind() != FixKind::Manual
            || !(call.starts_with("requests.Session.") || call.starts_with("httpx.Client."))
        {
            continue;
        }
        let Some(with) = session_with(resolver, planned[i].finding.node) else {
            continue;
        };
        if done.contains(&with.id()) {
            continue;
        }
        done.push(with.id());
        let Some((fix, covered)) = convert_session(resolver, with, planned) else {
            continue;
        };
        give_to_nodes(planned, &covered, FixKind::Native, &fix);
    }
}

/// The `with requests.Session() as s:` statement whose session the call uses.
fn session_with<'t>(resolver: &Resolver<'t>, call: Node<'t>) -> Option<Node<'t>> {
    let src = resolver.src();
    let callee = unparenthesize(call.child_by_field_name("function")?);
    let receiver = callee
        .child_by_field_name("object")
        .filter(|o| o.kind() == "identifier")?;
    let name = text(receiver, src);
    let mut node = call;
    while let Some(parent) = node.parent() {
        if parent.kind() == "with_statement"
            && parent
                .child_by_field_name("body")
                .is_some_and(|b| within(call, b))
        {
            let clause = named_children(parent)
                .into_iter()
                .find(|c| c.kind() == "with_clause")?;
            let items = named_children(clause);
            if let [item] = items.as_slice()
                && let Some(value) = item
                    .child_by_field_name("value")
                    .filter(|v| v.kind() == "as_pattern")
                && let Some(alias) = value.child_by_field_name("alias")
                && text(alias, src) == name
            {
                let ctor = unparenthesize(*named_children(value).first()?);
                let callee = ctor.child_by_field_name("function")?;
                let q = resolver.qualified_name(callee)?;
                let args = named_children(ctor.child_by_field_name("arguments")?);
                let accepted = match q.as_str() {
                    "requests.Session" | "requests.session" => args.is_empty(),
                    // The same library: the async client takes the same settings, except the
                    // ones that hold sync objects.
                    "httpx.Client" => args.iter().all(|a| {
                        a.kind() == "keyword_argument"
                            && a.child_by_field_name("name").is_some_and(|n| {
                                !matches!(
                                    text(n, src),
                                    "transport" | "mounts" | "event_hooks" | "auth"
                                )
                            })
                    }),
                    _ => false,
                };
                return accepted.then_some(parent);
            }
        }
        node = parent;
    }
    None
}

fn convert_session<'t>(
    resolver: &Resolver<'t>,
    with: Node<'t>,
    planned: &[Planned<'t>],
) -> Option<(Fix, Vec<Node<'t>>)> {
    let src = resolver.src();
    if crate::parse::syntax::has_async_keyword(with) {
        return None;
    }
    let function = crate::resolve::enclosing_function(with)?;
    let clause = named_children(with)
        .into_iter()
        .find(|c| c.kind() == "with_clause")?;
    let value = named_children(*named_children(clause).first()?)
        .into_iter()
        .next()?;
    let ctor = unparenthesize(*named_children(value).first()?);
    let alias = value.child_by_field_name("alias")?;
    let target = *named_children(alias).first()?;
    let name = text(target, src);
    let body = with.child_by_field_name("body")?;
    let scope = resolver.binding_scope(name, target)?;
    let module = resolver.module_alias_for("httpx");
    let httpx = module.clone().unwrap_or_else(|| "httpx".to_string());

    let from_requests = resolver
        .qualified_name(ctor.child_by_field_name("function")?)
        .is_some_and(|q| q.starts_with("requests."));
    let client = if from_requests {
        format!("{httpx}.AsyncClient(follow_redirects=True)")
    } else {
        format!(
            "{httpx}.AsyncClient{}",
            text(ctor.child_by_field_name("arguments")?, src)
        )
    };
    let mut edits = vec![
        Edit::insert(with.start_byte(), "async "),
        Edit::replace(ctor.start_byte(), ctor.end_byte(), client),
    ];
    let mut converted: Vec<Node<'t>> = Vec::new();
    let mut stack = vec![function];
    while let Some(node) = stack.pop() {
        stack.extend(children(node));
        if node.kind() != "identifier" || text(node, src) != name || node.id() == target.id() {
            continue;
        }
        if resolver.binding_scope(name, node) != Some(scope) {
            continue;
        }
        if !within(node, body) || crate::parse::syntax::in_nested_scope(node, function) {
            return None;
        }
        let attribute = node
            .parent()
            .filter(|p| p.kind() == "attribute" && is_field(*p, "object", node))?;
        let method = text(attribute.child_by_field_name("attribute")?, src);
        // httpx's headers take what requests' take only as plain strings (requests drops a
        // `None` value, httpx raises).
        if method == "headers" {
            if !from_requests || plain_header_change(src, attribute) {
                continue;
            }
            return None;
        }
        let call = attribute
            .parent()
            .filter(|c| c.kind() == "call" && is_field(*c, "function", attribute))?;
        let client = if from_requests {
            "requests.Session"
        } else {
            "httpx.Client"
        };
        if resolver.catalog().native_of_method(client, method) != Some(NAME)
            || crate::parse::syntax::in_generator_scope(call)
        {
            return None;
        }
        let mut arguments = request_arguments(resolver, call, method, from_requests)?;
        if from_requests && method == "head" && !arguments.explicit_redirects {
            arguments.text.push("follow_redirects=False".to_string());
        }
        let statement = enclosing_statement(resolver.root(), call);
        response_uses(resolver, call, statement, function, &mut edits)?;
        let args = call.child_by_field_name("arguments")?;
        let (head, tail) = crate::parse::syntax::await_parts(call);
        edits.push(Edit::insert(call.start_byte(), head));
        edits.push(Edit::replace(
            args.start_byte(),
            args.end_byte(),
            format!("({})", arguments.text.join(", ")),
        ));
        if !tail.is_empty() {
            edits.push(Edit::insert(call.end_byte(), tail));
        }
        converted.push(call);
    }
    if converted.is_empty() {
        return None;
    }
    translate_handlers(
        resolver,
        with,
        &converted,
        function,
        planned,
        from_requests,
        &mut edits,
    )?;
    Some((
        Fix {
            applicability: Applicability::Unsafe,
            edits,
            needs: if module.is_none() {
                vec!["httpx"]
            } else {
                Vec::new()
            },
        },
        converted,
    ))
}

/// `s.headers.update({"X-A": "1"})` or `s.headers["X-A"] = "1"`, with plain strings.
fn plain_header_change(src: &str, headers: Node) -> bool {
    let Some(parent) = headers.parent() else {
        return false;
    };
    match parent.kind() {
        "attribute" => {
            parent
                .child_by_field_name("attribute")
                .is_some_and(|a| text(a, src) == "update")
                && parent
                    .parent()
                    .filter(|c| c.kind() == "call")
                    .and_then(|c| c.child_by_field_name("arguments"))
                    .is_some_and(|args| {
                        let items = named_children(args);
                        items.len() == 1 && literal_mapping(src, items[0], true)
                    })
        }
        "subscript" => {
            parent
                .child_by_field_name("subscript")
                .is_some_and(|k| plain_string(src, k))
                && parent
                    .parent()
                    .filter(|a| a.kind() == "assignment" && is_field(*a, "left", parent))
                    .and_then(|a| a.child_by_field_name("right"))
                    .is_some_and(|v| plain_string(src, v))
        }
        _ => false,
    }
}

struct Arguments {
    text: Vec<String>,
    explicit_redirects: bool,
}

/// The request's arguments in httpx terms, or `None` when one has no exact counterpart.
fn request_arguments(
    resolver: &Resolver,
    call: Node,
    method: &str,
    from_requests: bool,
) -> Option<Arguments> {
    let src = resolver.src();
    let args = call.child_by_field_name("arguments")?;
    if args.kind() != "argument_list" {
        return None;
    }
    let mut out = Vec::new();
    let mut positional = 0;
    let mut has_timeout = false;
    let mut explicit_redirects = false;
    for arg in named_children(args) {
        match arg.kind() {
            "keyword_argument" => {
                let name = text(arg.child_by_field_name("name")?, src);
                let value = arg.child_by_field_name("value")?;
                let value_text = text(value, src);
                match name {
                    // requests drops `None` values and sends `True` as `True`; httpx raises
                    // or sends `true`: only literal strings and numbers mean the same.
                    "params" if literal_mapping(src, value, false) => {
                        out.push(text(arg, src).to_string())
                    }
                    "headers" | "cookies" if literal_mapping(src, value, true) => {
                        out.push(text(arg, src).to_string())
                    }
                    "json" if !BODYLESS.contains(&method) => out.push(text(arg, src).to_string()),
                    // requests encodes basic-auth credentials as latin-1, httpx as UTF-8.
                    "auth"
                        if !from_requests
                            || (value.kind() == "tuple"
                                && named_children(value).iter().all(|v| plain_string(src, *v))) =>
                    {
                        out.push(text(arg, src).to_string())
                    }
                    "timeout"
                        if matches!(value.kind(), "integer" | "float" | "none")
                            || !from_requests =>
                    {
                        has_timeout = true;
                        out.push(text(arg, src).to_string());
                    }
                    "allow_redirects" if from_requests => {
                        explicit_redirects = true;
                        out.push(format!("follow_redirects={value_text}"));
                    }
                    "follow_redirects" if !from_requests => out.push(text(arg, src).to_string()),
                    "data" if !BODYLESS.contains(&method) => match value.kind() {
                        // `True`/`None` values are form-encoded differently.
                        "dictionary" if literal_mapping(src, value, false) => {
                            out.push(text(arg, src).to_string())
                        }
                        "string" if from_requests => out.push(format!("content={value_text}")),
                        _ => return None,
                    },
                    "content" if !from_requests && !BODYLESS.contains(&method) => {
                        out.push(text(arg, src).to_string())
                    }
                    _ => return None,
                }
            }
            "list_splat" | "dictionary_splat" => return None,
            _ => {
                positional += 1;
                let allowed = if method == "request" { 2 } else { 1 };
                if positional > allowed {
                    return None;
                }
                out.push(text(arg, src).to_string());
            }
        }
    }
    if positional == 0 {
        return None;
    }
    // httpx replaces a query already in the URL with `params=`; requests merges them. Only a
    // URL literal without `?` rules that out.
    let has_params = named_children(args).iter().any(|a| {
        a.kind() == "keyword_argument"
            && a.child_by_field_name("name")
                .is_some_and(|n| text(n, src) == "params")
    });
    if has_params {
        let positionals: Vec<Node> = named_children(args)
            .into_iter()
            .filter(|a| a.kind() != "keyword_argument")
            .collect();
        let url = *positionals.get(usize::from(method == "request"))?;
        let plain = url.kind() == "string"
            && !crate::parse::syntax::children(url)
                .iter()
                .any(|c| c.kind() == "interpolation")
            && !text(url, src).contains('?');
        if !plain {
            return None;
        }
    }
    if from_requests && !has_timeout {
        out.push("timeout=None".to_string());
    }
    Some(Arguments {
        text: out,
        explicit_redirects,
    })
}

/// A dict literal whose keys are plain string literals and whose values are plain string
/// literals or, unless `text_only`, numbers. Plain: no bytes (httpx sends `b'x'` as its repr),
/// no f-string, and only ASCII (requests encodes header values as latin-1, httpx refuses them;
/// requests rejects a number as a header value, httpx with another error).
fn literal_mapping(src: &str, value: Node, text_only: bool) -> bool {
    value.kind() == "dictionary"
        && named_children(value).into_iter().all(|pair| {
            pair.kind() == "pair"
                && pair
                    .child_by_field_name("key")
                    .is_some_and(|k| plain_string(src, k))
                && pair.child_by_field_name("value").is_some_and(|v| {
                    plain_string(src, v) || (!text_only && matches!(v.kind(), "integer" | "float"))
                })
        })
}

/// A string literal without a bytes prefix or interpolation, all ASCII.
fn plain_string(src: &str, node: Node) -> bool {
    if node.kind() != "string" {
        return false;
    }
    let literal = text(node, src);
    let prefix: String = literal
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    !prefix.contains(['b', 'B', 'f', 'F']) && literal.is_ascii()
}

/// The response is used only through same-meaning attributes: right on the call, or through
/// the name the statement binds it to. `.ok` becomes `status_code < 400`.
fn response_uses<'t>(
    resolver: &Resolver<'t>,
    call: Node<'t>,
    statement: Node<'t>,
    function: Node<'t>,
    edits: &mut Vec<Edit>,
) -> Option<()> {
    let src = resolver.src();
    let parent = call.parent()?;
    match parent.kind() {
        "expression_statement" => return Some(()),
        "attribute" if is_field(parent, "object", call) => {
            // `.ok` right on the call would rewrite around the request itself: keep it simple.
            if parent
                .child_by_field_name("attribute")
                .map(|a| text(a, src))
                == Some("ok")
            {
                return None;
            }
            return same_meaning_use(src, parent, call, edits);
        }
        "assignment" if is_field(parent, "right", call) => {}
        _ => return None,
    }
    let target = parent
        .child_by_field_name("left")
        .filter(|l| l.kind() == "identifier")?;
    if parent.parent().is_none_or(|p| p.id() != statement.id()) {
        return None;
    }
    for attribute in resolver.attribute_uses_after(target, statement, function)? {
        let object = attribute.child_by_field_name("object")?;
        same_meaning_use(src, attribute, object, edits)?;
    }
    Some(())
}

fn same_meaning_use(src: &str, attribute: Node, object: Node, edits: &mut Vec<Edit>) -> Option<()> {
    let attr = text(attribute.child_by_field_name("attribute")?, src);
    let called = attribute
        .parent()
        .is_some_and(|c| c.kind() == "call" && is_field(c, "function", attribute));
    if attr == "ok" && !called {
        // A comparison needs parentheses wherever an operator or a chained comparison could
        // take it apart; as an argument, a condition or a whole value it stands alone.
        let alone = attribute.parent().is_some_and(|p| {
            matches!(
                p.kind(),
                "argument_list"
                    | "keyword_argument"
                    | "assignment"
                    | "return_statement"
                    | "boolean_operator"
                    | "not_operator"
                    | "if_statement"
                    | "elif_clause"
                    | "while_statement"
                    | "parenthesized_expression"
                    | "expression_statement"
            )
        });
        if let Some(negation) = attribute.parent().filter(|p| p.kind() == "not_operator") {
            // `not r.ok` reads best as the failure test itself.
            edits.push(Edit::replace(
                negation.start_byte(),
                negation.end_byte(),
                format!("{}.status_code >= 400", text(object, src)),
            ));
            return Some(());
        }
        let comparison = format!("{}.status_code < 400", text(object, src));
        let replacement = if alone {
            comparison
        } else {
            format!("({comparison})")
        };
        edits.push(Edit::replace(
            attribute.start_byte(),
            attribute.end_byte(),
            replacement,
        ));
        return Some(());
    }
    let same = if called {
        SAME_METHODS.contains(&attr)
    } else if attr == "headers" {
        headers_looked_up(attribute, src)
    } else {
        SAME_ATTRIBUTES.contains(&attr)
    };
    same.then_some(())
}

/// `r.headers["X"]` or `r.headers.get("X", ...)`: a case-insensitive look-up in both.
fn headers_looked_up(headers: Node, src: &str) -> bool {
    let Some(parent) = headers.parent() else {
        return false;
    };
    match parent.kind() {
        "subscript" => is_field(parent, "value", headers),
        "attribute" => {
            is_field(parent, "object", headers)
                && parent
                    .child_by_field_name("attribute")
                    .is_some_and(|a| text(a, src) == "get")
                && parent
                    .parent()
                    .is_some_and(|c| c.kind() == "call" && is_field(c, "function", parent))
        }
        _ => false,
    }
}

/// `except requests.exceptions.HTTPError` around the call → `except httpx.HTTPStatusError`,
/// when every requests call the `try` guards is converted with it.
fn translate_handlers<'t>(
    resolver: &Resolver<'t>,
    start: Node<'t>,
    converted: &[Node<'t>],
    function: Node<'t>,
    planned: &[Planned<'t>],
    from_requests: bool,
    edits: &mut Vec<Edit>,
) -> Option<()> {
    let module = resolver
        .module_alias_for("httpx")
        .unwrap_or_else(|| "httpx".to_string());
    // A handler of requests' exceptions that does not guard this call (it guards a use of the
    // response, say) would no longer catch what the response raises.
    let mut stack = vec![function];
    while let Some(n) = stack.pop() {
        if n.kind() == "except_clause"
            && let Some(try_statement) = n.parent()
            && try_statement
                .child_by_field_name("body")
                .is_none_or(|b| !within(start, b))
            && names_requests_exception(resolver, n)
        {
            return None;
        }
        if n.id() != function.id() && matches!(n.kind(), "function_definition" | "lambda") {
            continue;
        }
        stack.extend(children(n));
    }
    let mut node = start;
    while let Some(parent) = node.parent() {
        if parent.id() == function.id() {
            break;
        }
        if parent.kind() == "try_statement"
            && parent
                .child_by_field_name("body")
                .is_some_and(|b| within(start, b))
        {
            let body = parent.child_by_field_name("body")?;
            for clause in named_children(parent)
                .into_iter()
                .filter(|c| c.kind() == "except_clause")
            {
                let Some(value) = clause
                    .child_by_field_name("value")
                    .or_else(|| named_children(clause).first().copied())
                else {
                    continue;
                };
                let types = match value.kind() {
                    "as_pattern" => *named_children(value).first()?,
                    _ => value,
                };
                let binds_exception = value.kind() == "as_pattern";
                let types = unparenthesize(types);
                let listed: Vec<Node> = if types.kind() == "tuple" {
                    named_children(types)
                } else {
                    vec![types]
                };
                for t in listed {
                    if t.kind() == "identifier"
                        && BUILTIN_BASES.contains(&text(t, resolver.src()))
                        && resolver.binding_scope(text(t, resolver.src()), t).is_none()
                    {
                        return None;
                    }
                    let Some(q) = resolver.qualified_name(t) else {
                        continue;
                    };
                    if !q.starts_with("requests.") {
                        continue;
                    }
                    // The exceptions' messages and attributes differ: a handler that reads
                    // the exception keeps the thread fix.
                    if !from_requests || binds_exception {
                        return None;
                    }
                    let target = EXCEPTIONS.iter().find(|(from, _)| *from == q)?.1;
                    // Another requests call guarded by this handler would lose it.
                    let others = planned.iter().any(|p| {
                        !converted.iter().any(|c| c.id() == p.finding.node.id())
                            && p.finding.call.starts_with("requests.")
                            && within(p.finding.node, body)
                    });
                    if others {
                        return None;
                    }
                    edits.push(Edit::replace(
                        t.start_byte(),
                        t.end_byte(),
                        format!("{module}.{target}"),
                    ));
                }
            }
        }
        node = parent;
    }
    Some(())
}

/// Whether an `except` clause names an exception of `requests`.
fn names_requests_exception<'t>(resolver: &Resolver<'t>, clause: Node<'t>) -> bool {
    let mut stack = vec![clause];
    while let Some(n) = stack.pop() {
        if n.kind() == "block" {
            continue;
        }
        if matches!(n.kind(), "identifier" | "attribute")
            && resolver
                .qualified_name(n)
                .is_some_and(|q| q.starts_with("requests."))
        {
            return true;
        }
        stack.extend(named_children(n));
    }
    false
}

/// `requests.get(...)` in a statement → a request on an `httpx.AsyncClient` for it (unsafe).
pub struct HttpxRequests;

impl super::NativeRewrite for HttpxRequests {
    fn apply<'t>(
        &self,
        planned: &mut [Planned<'t>],
        resolver: &Resolver<'t>,
        _: &crate::fix::spelling::Spelling,
    ) {
        use_async_http(planned, resolver);
    }
}

/// `with requests.Session() as s:` → `async with httpx.AsyncClient(...) as s:` (unsafe).
pub struct HttpxSessions;

impl super::NativeRewrite for HttpxSessions {
    fn apply<'t>(
        &self,
        planned: &mut [Planned<'t>],
        resolver: &Resolver<'t>,
        _: &crate::fix::spelling::Spelling,
    ) {
        use_async_sessions(planned, resolver);
    }
}
