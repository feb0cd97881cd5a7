//! The bounded XML reader every SOAP document goes through ([`parse_xml`]) and the element tree
//! it builds ([`XmlElement`]).

use super::*;

/// Bounds applied while parsing XML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XmlLimits {
    /// Largest document accepted, in bytes.
    pub max_bytes: usize,
    /// Deepest element nesting accepted (the root element is depth 1).
    pub max_depth: usize,
    /// Most elements accepted in one document.
    pub max_elements: usize,
}

impl Default for XmlLimits {
    /// 64 MiB, depth 64, one million elements: far above any XDS metadata seen in practice.
    fn default() -> Self {
        XmlLimits {
            max_bytes: 64 * 1024 * 1024,
            max_depth: 64,
            max_elements: 1_000_000,
        }
    }
}

/// Errors of the hardened XML reader.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    /// The document is larger than [`XmlLimits::max_bytes`].
    #[error("XML document of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Size of the input.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// Elements nest deeper than [`XmlLimits::max_depth`].
    #[error("XML nesting exceeds {limit} levels at byte {offset}")]
    TooDeep {
        /// The configured limit.
        limit: usize,
        /// Byte offset where the limit was crossed.
        offset: u64,
    },
    /// More elements than [`XmlLimits::max_elements`].
    #[error("XML document has more than {limit} elements")]
    TooManyElements {
        /// The configured limit.
        limit: usize,
    },
    /// A `<!DOCTYPE` declaration: refused because DTDs can define entities (billion laughs, XXE).
    #[error("XML document type declarations (<!DOCTYPE) are not accepted (byte {offset})")]
    DoctypeForbidden {
        /// Byte offset of the declaration.
        offset: u64,
    },
    /// An entity reference other than the five predefined ones.
    #[error("undeclared XML entity reference &{name}; at byte {offset}")]
    UnknownEntity {
        /// The entity name.
        name: String,
        /// Byte offset.
        offset: u64,
    },
    /// Bytes that are not UTF-8 (IHE messages are UTF-8).
    #[error("XML content is not valid UTF-8 near byte {offset}")]
    InvalidUtf8 {
        /// Byte offset of the event holding the bad bytes.
        offset: u64,
    },
    /// The reader found a syntax error (unclosed tag, mismatched end tag, bad attribute, ...).
    #[error("malformed XML at byte {offset}: {message}")]
    Malformed {
        /// Byte offset.
        offset: u64,
        /// The reader's description.
        message: String,
    },
    /// No root element (empty document, or only prolog).
    #[error("XML document has no root element")]
    NoRootElement,
    /// Input ended inside an element.
    #[error("XML document is truncated: {open} element(s) still open at end of input")]
    Truncated {
        /// Number of unclosed elements.
        open: usize,
    },
    /// Non-whitespace text or a second element after the root element.
    #[error("content after the XML root element at byte {offset}")]
    TrailingContent {
        /// Byte offset.
        offset: u64,
    },
}

/// An attribute with its namespace resolved (`ns` is `None` for unprefixed attributes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlAttr {
    /// Namespace URI of a prefixed attribute.
    pub ns: Option<String>,
    /// Local name.
    pub local: String,
    /// Value with entities and character references resolved and whitespace normalised as XML 1.0
    /// attribute-value normalisation prescribes.
    pub value: String,
}

/// One element of a parsed document, namespaces resolved. Namespace declarations (`xmlns`,
/// `xmlns:*`) are not kept as attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlElement {
    /// Namespace URI, `None` when the element is in no namespace.
    pub ns: Option<String>,
    /// Local name.
    pub local: String,
    /// Attributes in document order.
    pub attrs: Vec<XmlAttr>,
    /// Child elements in document order.
    pub children: Vec<XmlElement>,
    /// Concatenated character data directly inside this element (CDATA included).
    pub text: String,
    /// Bytes of the whole element, from `<` of the start tag to `>` of the end tag.
    pub span: Range<usize>,
    /// Bytes between the start tag and the end tag (empty for `<a/>`).
    pub inner: Range<usize>,
}

impl XmlElement {
    /// True when the element has namespace `ns` and local name `local`.
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.ns.as_deref() == Some(ns) && self.local == local
    }

    /// Value of the unprefixed attribute `local`.
    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.is_none() && a.local == local)
            .map(|a| a.value.as_str())
    }

    /// Value of the attribute `local` in namespace `ns`.
    pub fn attr_ns(&self, ns: &str, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.as_deref() == Some(ns) && a.local == local)
            .map(|a| a.value.as_str())
    }

    /// First child named `{ns}local`.
    pub fn child(&self, ns: &str, local: &str) -> Option<&XmlElement> {
        self.children.iter().find(|c| c.is(ns, local))
    }

    /// All children named `{ns}local`.
    pub fn children_named<'a>(
        &'a self,
        ns: &'a str,
        local: &'a str,
    ) -> impl Iterator<Item = &'a XmlElement> + 'a {
        self.children.iter().filter(move |c| c.is(ns, local))
    }

    /// Text content with surrounding whitespace removed.
    pub fn text_trimmed(&self) -> &str {
        self.text.trim()
    }

    /// Text of the first child `{ns}local`, trimmed.
    pub fn child_text(&self, ns: &str, local: &str) -> Option<&str> {
        self.child(ns, local).map(XmlElement::text_trimmed)
    }

    /// First descendant (depth first, self excluded) named `{ns}local`.
    pub fn find(&self, ns: &str, local: &str) -> Option<&XmlElement> {
        for c in &self.children {
            if c.is(ns, local) {
                return Some(c);
            }
            if let Some(found) = c.find(ns, local) {
                return Some(found);
            }
        }
        None
    }

    /// Every descendant (self excluded) named `{ns}local`, in document order.
    pub fn find_all<'a>(&'a self, ns: &str, local: &str, out: &mut Vec<&'a XmlElement>) {
        for c in &self.children {
            if c.is(ns, local) {
                out.push(c);
            }
            c.find_all(ns, local, out);
        }
    }
}

fn malformed(offset: u64, e: impl std::fmt::Display) -> XmlError {
    XmlError::Malformed {
        offset,
        message: e.to_string(),
    }
}

fn resolved_ns(r: &ResolveResult<'_>, offset: u64) -> Result<Option<String>, XmlError> {
    match r {
        ResolveResult::Bound(ns) => std::str::from_utf8(ns.0)
            .map(|s| Some(s.to_owned()))
            .map_err(|_| XmlError::InvalidUtf8 { offset }),
        ResolveResult::Unbound => Ok(None),
        ResolveResult::Unknown(p) => Err(XmlError::Malformed {
            offset,
            message: format!(
                "undeclared namespace prefix {}",
                crate::evidence::quote(&String::from_utf8_lossy(p))
            ),
        }),
    }
}

/// Parse a whole document into an [`XmlElement`] tree, enforcing `limits`.
///
/// Rejects `<!DOCTYPE`, undeclared entities, undeclared prefixes, invalid UTF-8, mismatched tags,
/// truncation and content after the root element. Never panics on any input.
pub fn parse_xml(bytes: &[u8], limits: &XmlLimits) -> Result<XmlElement, XmlError> {
    if bytes.len() > limits.max_bytes {
        return Err(XmlError::TooLarge {
            size: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    let mut reader = NsReader::from_reader(bytes);
    {
        let cfg = reader.config_mut();
        cfg.check_end_names = true;
        cfg.expand_empty_elements = false;
        cfg.trim_text_start = false;
        cfg.trim_text_end = false;
    }
    let mut buf = Vec::new();
    let mut stack: Vec<XmlElement> = Vec::new();
    let mut root: Option<XmlElement> = None;
    let mut elements = 0usize;
    loop {
        let before = reader.buffer_position();
        buf.clear();
        let (ns, event) = match reader.read_resolved_event_into(&mut buf) {
            Ok((res, ev)) => (resolved_ns(&res, before), ev),
            Err(e) => return Err(malformed(reader.error_position(), e)),
        };
        let after = reader.buffer_position();
        let start_off = usize::try_from(before).unwrap_or(usize::MAX);
        let end_off = usize::try_from(after).unwrap_or(usize::MAX);
        match event {
            Event::DocType(_) => return Err(XmlError::DoctypeForbidden { offset: before }),
            Event::Start(ref e) | Event::Empty(ref e) => {
                if root.is_some() {
                    return Err(XmlError::TrailingContent { offset: before });
                }
                elements += 1;
                if elements > limits.max_elements {
                    return Err(XmlError::TooManyElements {
                        limit: limits.max_elements,
                    });
                }
                if stack.len() + 1 > limits.max_depth {
                    return Err(XmlError::TooDeep {
                        limit: limits.max_depth,
                        offset: before,
                    });
                }
                let el = new_element(&reader, e, ns?, start_off, end_off, before)?;
                if matches!(event, Event::Empty(_)) {
                    close_element(&mut stack, &mut root, el);
                } else {
                    stack.push(el);
                }
            }
            Event::End(_) => {
                let Some(mut el) = stack.pop() else {
                    return Err(malformed(before, "end tag without start tag"));
                };
                el.inner.end = start_off;
                el.span.end = end_off;
                close_element(&mut stack, &mut root, el);
            }
            Event::Text(t) => {
                let s = t
                    .xml10_content()
                    .map_err(|_| XmlError::InvalidUtf8 { offset: before })?;
                push_text(&mut stack, root.is_some(), &s, before)?;
            }
            Event::CData(t) => {
                let s = t
                    .decode()
                    .map_err(|_| XmlError::InvalidUtf8 { offset: before })?;
                push_text(&mut stack, root.is_some(), &s, before)?;
            }
            Event::GeneralRef(r) => {
                let name = r
                    .decode()
                    .map_err(|_| XmlError::InvalidUtf8 { offset: before })?;
                let resolved: String = if r.is_char_ref() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        Ok(None) | Err(_) => {
                            return Err(malformed(
                                before,
                                format!("bad character reference &{name};"),
                            ))
                        }
                    }
                } else {
                    match name.as_ref() {
                        "amp" => "&".into(),
                        "lt" => "<".into(),
                        "gt" => ">".into(),
                        "quot" => "\"".into(),
                        "apos" => "'".into(),
                        other => {
                            return Err(XmlError::UnknownEntity {
                                name: other.to_owned(),
                                offset: before,
                            })
                        }
                    }
                };
                push_text(&mut stack, root.is_some(), &resolved, before)?;
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Truncated { open: stack.len() });
    }
    root.ok_or(XmlError::NoRootElement)
}

fn new_element(
    reader: &NsReader<&[u8]>,
    e: &BytesStart<'_>,
    ns: Option<String>,
    start_off: usize,
    end_off: usize,
    offset: u64,
) -> Result<XmlElement, XmlError> {
    let local = std::str::from_utf8(e.local_name().into_inner())
        .map_err(|_| XmlError::InvalidUtf8 { offset })?
        .to_owned();
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|err| malformed(offset, err))?;
        let key = a.key;
        if key.as_namespace_binding().is_some() {
            continue;
        }
        let (ares, alocal) = reader.resolver().resolve_attribute(key);
        let ans = resolved_ns(&ares, offset)?;
        let alocal = std::str::from_utf8(alocal.into_inner())
            .map_err(|_| XmlError::InvalidUtf8 { offset })?
            .to_owned();
        let value =
            a.decoded_and_normalized_value(XmlVersion::Implicit1_0, reader.decoder())
                .map_err(|err| match err {
                    quick_xml::Error::Escape(
                        quick_xml::escape::EscapeError::UnrecognizedEntity(_, name),
                    ) => XmlError::UnknownEntity { name, offset },
                    quick_xml::Error::Encoding(_) => XmlError::InvalidUtf8 { offset },
                    other => malformed(offset, other),
                })?
                .into_owned();
        attrs.push(XmlAttr {
            ns: ans,
            local: alocal,
            value,
        });
    }
    Ok(XmlElement {
        ns,
        local,
        attrs,
        children: Vec::new(),
        text: String::new(),
        span: start_off..end_off,
        inner: end_off..end_off,
    })
}

fn close_element(stack: &mut [XmlElement], root: &mut Option<XmlElement>, el: XmlElement) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None => *root = Some(el),
    }
}

fn push_text(
    stack: &mut [XmlElement],
    after_root: bool,
    s: &str,
    offset: u64,
) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(el) => {
            el.text.push_str(s);
            Ok(())
        }
        None if s.trim().is_empty() => Ok(()),
        None if after_root => Err(XmlError::TrailingContent { offset }),
        None => Err(malformed(offset, "text before the root element")),
    }
}
