%% For `rabbitmqctl eval` (by hand, while a bench runs): where the node's work goes. The Erlang
%% processes grouped by what started them (or their registered name), with the reductions each
%% group did in 10 s, the largest first. An expression list, not a module. Under heavy load the
%% CLI may not reach the node in time: start it before the phase to look at.
Key = fun(P) ->
    case erlang:process_info(P, [dictionary, initial_call, reductions, registered_name]) of
        undefined -> undefined;
        [{dictionary, D}, {initial_call, I}, {reductions, R}, {registered_name, N}] ->
            Group = case N of
                [] -> case proplists:get_value('$initial_call', D) of undefined -> I; Call -> Call end;
                _ -> N
            end,
            {Group, R}
    end
end,
Snapshot = fun() -> maps:from_list([{P, Key(P)} || P <- erlang:processes()]) end,
Before = Snapshot(), timer:sleep(10000), After = Snapshot(),
Groups = maps:fold(
    fun(_, undefined, Acc) -> Acc;
       (P, {K, R2}, Acc) ->
           R1 = case maps:get(P, Before, undefined) of {_, R} -> R; _ -> 0 end,
           maps:update_with(K, fun({C, S}) -> {C + 1, S + R2 - R1} end, {1, R2 - R1}, Acc)
    end, #{}, After),
Sorted = lists:reverse(lists:keysort(3, [{K, C, S} || {K, {C, S}} <- maps:to_list(Groups)])),
Total = lists:sum([S || {_, _, S} <- Sorted]),
io:format("reductions in 10 s: ~b~n", [Total]),
[io:format("~p count ~b reductions ~b (~.1f%)~n", [K, C, S, 100 * S / max(Total, 1)]) || {K, C, S} <- lists:sublist(Sorted, 25)],
ok.
