-- Used by tests/neovim.rs: opens KANON_FILE headless, attaches `KANON_BIN lsp` with the
-- API of every Neovim since 0.7 (Debian's), waits for diagnostics and writes them to
-- KANON_OUT, one per line: `LINE:COL CODE MESSAGE`.
local bin, file, out = os.getenv('KANON_BIN'), os.getenv('KANON_FILE'), os.getenv('KANON_OUT')
vim.cmd('edit ' .. vim.fn.fnameescape(file))
local buf = vim.api.nvim_get_current_buf()
local id = vim.lsp.start_client({
  name = 'kanon',
  cmd = { bin, 'lsp' },
  root_dir = vim.fn.fnamemodify(file, ':p:h'),
})
vim.lsp.buf_attach_client(buf, id)
vim.wait(60000, function() return #vim.diagnostic.get(buf) > 0 end, 50)
local lines = {}
for _, d in ipairs(vim.diagnostic.get(buf)) do
  local msg = d.message:gsub('\n', ' | ')
  table.insert(lines, string.format('%d:%d %s %s', d.lnum + 1, d.col + 1, d.code or '', msg))
end
if #lines == 0 then
  lines = { 'no diagnostics' }
end
vim.fn.writefile(lines, out)
vim.lsp.stop_client(id)
vim.cmd('qa!')
