/**
 * `legionctl completion bash|zsh`: a completion script for subcommands, options and legion names.
 * Legion names come from the running daemon at completion time (the hidden `__legions`
 * subcommand, through the same --control socket the command line names), so they are never stale.
 * zsh runs the same function through bashcompinit, which zsh ships for exactly this.
 */

/** `${'$'}` writes a shell `$` where a template would otherwise interpolate */
const BASH = `# legionctl completion for bash: source it, or put it in
# /usr/share/bash-completion/completions/legionctl
_legionctl() {
  local cur=${'$'}{COMP_WORDS[COMP_CWORD]} prev=${'$'}{COMP_WORDS[COMP_CWORD-1]}
  local -a control=() args=()
  local i w
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${'$'}{COMP_WORDS[i]}
    case $w in
      --control) control=(--control "${'$'}{COMP_WORDS[i+1]}"); ((i++)) ;;
      --control=*) control=("$w") ;;
      --timeout|--for|--file) ((i++)) ;;
      -*) ;;
      *) args+=("$w") ;;
    esac
  done
  case $prev in
    --control|--file) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --timeout|--for) COMPREPLY=(); return ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "--control --json --timeout --help --version --for --cancel --file" -- "$cur"))
    return
  fi
  local sub=${'$'}{args[0]:-} want=""
  case ${'$'}{#args[@]} in
    0) COMPREPLY=($(compgen -W "status members valor stepdown scroll events leave completion help" -- "$cur")); return ;;
  esac
  case $sub in
    members|events|stepdown|leave) [[ ${'$'}{#args[@]} -eq 1 ]] && want=legion ;;
    valor|scroll)
      if [[ ${'$'}{#args[@]} -eq 1 ]]; then
        COMPREPLY=($(compgen -W "get set" -- "$cur")); return
      fi
      [[ ${'$'}{#args[@]} -eq 2 ]] && want=legion ;;
    completion) [[ ${'$'}{#args[@]} -eq 1 ]] && COMPREPLY=($(compgen -W "bash zsh" -- "$cur")); return ;;
  esac
  if [[ $want == legion ]]; then
    local legions
    legions=$("${'$'}{COMP_WORDS[0]}" "${'$'}{control[@]}" --timeout 2s __legions 2>/dev/null)
    COMPREPLY=($(compgen -W "$legions" -- "$cur"))
  fi
}
complete -F _legionctl legionctl
`;

const ZSH = `#compdef legionctl
# legionctl completion for zsh: put it in a directory of $fpath as _legionctl, or source it
autoload -U +X bashcompinit && bashcompinit
${BASH.split('\n').slice(2).join('\n')}`;

export function completionScript(shell: string): string | null {
  if (shell === 'bash') return BASH;
  if (shell === 'zsh') return ZSH;
  return null;
}
