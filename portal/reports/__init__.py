"""PDF documents rendered with WeasyPrint and embedded CJK fonts."""
