"""What the shop already has written: its FAQ page, its policies in PDF or Word, its notes.

- ``extract``: a document (HTML, Markdown, text, PDF, DOCX) read into titled sections, and the
  question/answer pairs its FAQ structure proposes, with well-kept libraries;
- ``fetch``: a page of the shop's own site, fetched safely (its origins only, no private
  addresses unless allowed, size and time limits, no redirect elsewhere);
- ``store``: the only module that reads and writes ``documents``; a document's sections are
  knowledge-base entries, searched and decided on like any answer;
- ``reply``: the reply from a section: its sentences that answer the question, with the
  document's title and link.
"""
