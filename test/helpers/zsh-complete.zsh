# Drives a real interactive zsh through zpty: loads the completion system and the script given,
# types the command line given, presses TAB, and prints each batch of matches the completion
# system was offered as <<word word ...>> (compadd is wrapped to print them). Bounded: about
# 10 s for the shell to start and 15 s for the completion.
# usage: zsh -f zsh-complete.zsh SCRIPT LINE
emulate -L zsh
zmodload zsh/zpty || { print -u2 'zsh/zpty is missing'; exit 3 }
script=$1 line=$2
zpty z zsh -f -i
zpty -w z "PS1='> '; PROMPT_EOL_MARK=''"
zpty -w z "autoload -U compinit && compinit -u -D && source ${(q)script}"
zpty -w z 'compadd() { local -a __hits; builtin compadd -O __hits "$@"; print -rn -- $'"'"'\n<<'"'"'"${(j: :)__hits}"'"'"'>>\n'"'"'; builtin compadd "$@" }'
zpty -w z 'print READY'
out=''
integer i ok=0
for (( i = 0; i < 100; i++ )); do
  zpty -rt z chunk && out+=$chunk
  [[ $out == *$'\n'READY* ]] && { ok=1; break }
  sleep 0.1
done
(( ok )) || { print -u2 -r -- "zsh did not start: $out"; zpty -d z; exit 4 }
zpty -wn z "$line"$'\t'
out=''
ok=0
for (( i = 0; i < 150; i++ )); do
  zpty -rt z chunk && out+=$chunk
  if [[ $out == *'>>'* ]]; then
    # let the other batches of the same completion arrive
    sleep 0.3
    zpty -rt z chunk && out+=$chunk
    ok=1
    break
  fi
  sleep 0.1
done
zpty -d z
(( ok )) || { print -u2 -r -- "no completion offered: $out"; exit 5 }
print -r -- "$out" | grep -ao '<<[^>]*>>'
