// The book's own layout (loaded by _config.yml: html_js_files).
// A notebook output table wider than the text column borrows the right margin: its cell gets the theme's
// full-width layout (sphinx-book-theme's `full-width`, as a cell tagged `full-width` in the notebook).
// Whatever still does not fit is reported by `python -m nc_core book check`, which fails the build.
(() => {
  const widen = () => {
    for (const out of document.querySelectorAll("div.cell div.cell_output")) {
      const cell = out.closest("div.cell");
      if (cell.matches(".tag_full-width")) continue;
      const room = out.getBoundingClientRect().width;
      const tables = Array.from(out.querySelectorAll("table"));
      if (tables.some(table => table.getBoundingClientRect().width > room + 1)) cell.classList.add("tag_full-width");
    }
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", widen);
  else widen();
  document.addEventListener("toggle", widen, true); // a table in a collapsed output is measured when opened
})();
