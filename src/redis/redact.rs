//! Masking secrets out of every message the tool prints.
//!
//! A URL that fails to parse cannot be masked by a URL parser, so this works
//! on plain text: anything shaped like `scheme://user:password@host` has its
//! password replaced, whether or not the rest of it is a valid URL.

/// What a masked password reads as.
const MASK: &str = "***";

/// `text` with the user-info of every URL-like substring masked:
/// `redis://u:secret@h:99999` becomes `redis://u:***@h:99999`; a user-info
/// with no `:` (a bare token) is masked whole.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        // The token runs to the next blank or quote; its last '@' ends the
        // user-info even when the password itself holds '/', '@' or ':'.
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '\'' | '"' | '`' | '<' | '>'))
            .unwrap_or(tail.len());
        let token = &tail[..end];
        match token.rfind('@') {
            Some(sep) => {
                let userinfo = &token[..sep];
                if let Some((user, _)) = userinfo.split_once(':') {
                    out.push_str(user);
                    out.push(':');
                }
                if !userinfo.is_empty() {
                    out.push_str(MASK);
                }
                out.push_str(&token[sep..]);
            }
            None => out.push_str(token),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn masks_parsed_and_unparsable_urls_alike() {
        assert_eq!(
            redact("'redis://u:secret@127.0.0.1:99999' is not a URL"),
            "'redis://u:***@127.0.0.1:99999' is not a URL"
        );
        assert_eq!(redact("redis://:pw@h:1/0"), "redis://:***@h:1/0");
        assert_eq!(redact("redis://token@h"), "redis://***@h");
        assert_eq!(redact("x redis://a:p/@ss@h y"), "x redis://a:***@h y");
        assert_eq!(redact("redis://h:6379/0 ok"), "redis://h:6379/0 ok");
        assert_eq!(
            redact("a http://u:v@x and redis://w:z@y"),
            "a http://u:***@x and redis://w:***@y"
        );
        assert_eq!(redact("no url here"), "no url here");
    }
}
