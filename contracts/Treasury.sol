// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/**
 * @title ISpendingErrors
 * @notice Why a spending is refused. Declared apart so that the WorkGovernor, which passes the
 * Treasury's refusals on when a spending proposal is opened or executed, has them in its ABI too.
 */
interface ISpendingErrors {
    /// @notice A payment was ordered by someone other than the governor.
    /// @param caller Who called.
    error NotGovernor(address caller);
    /// @notice A spending of 0 tokens.
    error ZeroAmount();
    /// @notice A spending to the zero address (the tokens would be lost).
    error ZeroRecipient();
    /// @notice A spending without a description: members must be told what it pays for.
    error EmptyDescription();
    /// @notice A spending over what the treasury holds.
    /// @param amount The amount asked for.
    /// @param balance What the treasury holds now.
    error AmountOverBalance(uint256 amount, uint256 balance);
}

/**
 * @title Treasury
 * @notice Holds the DAO's reinvested share of every epoch's reward (the RewardDistributor pays it
 * here) and pays it out only when the WorkGovernor executes a passed spending proposal: the members
 * decide how much is reinvested and also what it buys (hardware, hosting, partners).
 * @dev The governor is fixed at deployment. The deployer predicts the governor's address (it is
 * deployed after the distributor, which needs this contract's address), and the governor checks at
 * construction that this contract names it, so a wrong prediction fails the deployment.
 */
contract Treasury is ISpendingErrors {
    using SafeERC20 for IERC20;

    /// @notice What a payment is for, as members chose it in the proposal.
    enum Category {
        Hardware,
        Hosting,
        Partner,
        Other
    }

    /// @notice The token held and paid out (the reward token).
    /// @return The token's address.
    IERC20 public immutable token;
    /// @notice The only account that may order a payment: the WorkGovernor.
    /// @return The governor's address.
    address public immutable governor;

    /// @notice The governor paid out a passed spending proposal.
    /// @param proposalId The spending proposal executed (its ProposalCreated event carries the description).
    /// @param recipient Who was paid.
    /// @param amount What was paid, in the token's smallest unit.
    /// @param category What the payment is for.
    event Paid(uint256 indexed proposalId, address indexed recipient, uint256 amount, Category category);

    /// @notice A constructor argument was the zero address.
    error ZeroAddress();

    /// @param token_ The token held (the reward token the distributor pays the reinvested share in).
    /// @param governor_ The WorkGovernor that orders payments.
    constructor(IERC20 token_, address governor_) {
        if (address(token_) == address(0) || governor_ == address(0)) revert ZeroAddress();
        token = token_;
        governor = governor_;
    }

    /// @notice Reverts with the reason a spending could not be paid now; returns when it could.
    /// @dev The governor calls it when a spending proposal is opened, so a proposal that could not
    /// be paid is refused before members vote on it; pay() checks again at execution.
    /// @param recipient Who would be paid; not the zero address.
    /// @param amount What would be paid; above 0 and at most the balance.
    /// @param description What it pays for; not empty.
    function checkSpending(address recipient, uint256 amount, string calldata description) external view {
        if (bytes(description).length == 0) revert EmptyDescription();
        _checkPayment(recipient, amount);
    }

    /// @notice Pays `amount` to `recipient` for the executed spending proposal `proposalId`.
    /// @dev Only the governor calls it, from execute(), after marking the proposal executed, so
    /// each proposal pays once. The balance is checked here, at execution: a proposal opened when
    /// the treasury held enough can no longer pay once other spendings took it.
    /// @param proposalId The spending proposal being executed.
    /// @param recipient Who is paid; not the zero address.
    /// @param amount What is paid; above 0 and at most the balance.
    /// @param category What the payment is for.
    function pay(uint256 proposalId, address recipient, uint256 amount, Category category) external {
        if (msg.sender != governor) revert NotGovernor(msg.sender);
        _checkPayment(recipient, amount);
        emit Paid(proposalId, recipient, amount, category);
        token.safeTransfer(recipient, amount);
    }

    /// @notice What the treasury holds now.
    /// @return The token balance, in the token's smallest unit.
    function balance() public view returns (uint256) {
        return token.balanceOf(address(this));
    }

    function _checkPayment(address recipient, uint256 amount) private view {
        if (amount == 0) revert ZeroAmount();
        if (recipient == address(0)) revert ZeroRecipient();
        uint256 held = balance();
        if (amount > held) revert AmountOverBalance(amount, held);
    }
}
