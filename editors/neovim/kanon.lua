-- kanon rule files in Neovim: filetype, comments and the `kanon lsp` language server.
-- Put this file in ~/.config/nvim/plugin/ (or `dofile` it from init.lua). Works with
-- Neovim 0.7 and later; `kanon` must be on PATH.
vim.cmd('autocmd BufRead,BufNewFile *.kanon setfiletype kanon')

-- the root of a ruleset holds `ruleset.yaml`; otherwise the file's folder
local function root_dir(buf)
  local dir = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(buf), ':p:h')
  local marker = vim.fn.findfile('ruleset.yaml', dir .. ';')
  if marker ~= '' then
    return vim.fn.fnamemodify(marker, ':p:h')
  end
  return dir
end

local clients = {} -- Neovim 0.7: one client per root

vim.api.nvim_create_autocmd('FileType', {
  pattern = 'kanon',
  callback = function(args)
    vim.bo[args.buf].commentstring = '// %s'
    local config = { name = 'kanon', cmd = { 'kanon', 'lsp' }, root_dir = root_dir(args.buf) }
    if vim.lsp.start then -- Neovim 0.8 and later reuse a running client
      vim.lsp.start(config)
    else
      local id = clients[config.root_dir] or vim.lsp.start_client(config)
      clients[config.root_dir] = id
      vim.lsp.buf_attach_client(args.buf, id)
    end
  end,
})
